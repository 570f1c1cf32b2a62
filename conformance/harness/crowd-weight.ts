import { ProtocolClient } from './client';
import { Deadlines } from './deadlines';
import { LaunchedTarget } from './launcher';
import { CrowdWeight } from './models';
import { hasProcfs, readProcess } from './procfs';

/**
 * CPU (clock ticks of 10 ms, as /proc counts them) the process of one session may take to serve one
 * message and still be light: a fork() of the server takes none; a Node or Python interpreter
 * started for the session takes ten times this before it reads a byte.
 */
export const LIGHT_SESSION_TICKS = 5;

/**
 * Serves one session on a started server and weighs the process the server started for it. Undefined
 * when that cannot be seen (no /proc, no new process, no ack): then crowds count as heavy.
 */
export async function weighSession(server: LaunchedTarget, deadlines: Deadlines): Promise<CrowdWeight | undefined> {
  if (!hasProcfs()) return undefined;
  const before = new Set(server.memberPids());
  const client = await ProtocolClient.connectTo(server.endpoint, deadlines.connect());
  try {
    await client.send('weighing');
    if (!(await client.waitForAcks(1, deadlines.ack(1)))) return undefined;
    const fresh = server.memberPids().filter((pid) => !before.has(pid)).map((pid) => readProcess(pid));
    if (fresh.length === 0) return undefined;
    const ticks = fresh.reduce((sum, p) => sum + (p?.cpuTicks ?? 0), 0);
    return ticks <= LIGHT_SESSION_TICKS ? 'light' : 'heavy';
  } finally {
    client.close();
  }
}
