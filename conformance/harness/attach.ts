import { ProtocolClient } from './client';
import { Deadlines } from './deadlines';
import { describeEndpoint, Endpoint, listenAtOf } from './endpoint';
import { LaunchedTarget, LaunchError } from './launcher';
import { hasProcfs, pidExists, processTree, readProcess } from './procfs';
import { listenHolders } from './server-process';
import { Target } from './target';

/**
 * A server the kit did not start: it is reached at its address and, given its pid, watched through
 * /proc. The kit never signals or stops it: `stop()` only forgets it.
 */

/** Where a target already running listens: its TCP address, or its Unix socket path. */
export function runningEndpoint(target: Target): Endpoint {
  return target.unix !== undefined ? { path: target.unix } : { host: target.host, port: target.port as number };
}

/** Whether something accepts a connection at `endpoint` within `timeoutMs` (the connection is closed at once). */
export function answers(endpoint: Endpoint, timeoutMs: number): Promise<boolean> {
  return ProtocolClient.connectTo(endpoint, timeoutMs).then((client) => {
    client.close();
    return true;
  }, () => false);
}

/**
 * The running target as cases see a launched one. Throws LaunchError when nothing answers at its
 * address, or when its pid is not running, holds no listener on its port or is an ancestor of the kit (a wrong
 * pid would make every process count about another program).
 */
export async function attachTarget(target: Target, deadlines: Deadlines): Promise<LaunchedTarget> {
  const endpoint = runningEndpoint(target);
  const where = describeEndpoint(endpoint);
  if (!(await answers(endpoint, deadlines.connect()))) {
    throw new LaunchError(`nothing accepts connections at ${where} (is the server running there?)`);
  }
  const pid = target.pid;
  if (pid !== undefined) {
    if (!pidExists(pid)) throw new LaunchError(`no process ${pid} on this machine (--pid)`);
    const members = hasProcfs() ? processTree(pid).map((p) => p.pid) : undefined;
    // An ancestor of the kit (pid 1, the shell that runs it) holds the server too, and the kit itself:
    // its descriptors, children and threads would be counted as the server's.
    if (members?.includes(process.pid)) {
      throw new LaunchError(`process ${pid} is an ancestor of this kit, not the server: give the server's own pid (--pid)`);
    }
    if (members && !listenHolders(members, listenAtOf(endpoint)).pids.length) {
      throw new LaunchError(`process ${pid} and its children hold no socket listening on ${where}: is --pid the server's process?`);
    }
  }
  const startTicks = pid === undefined ? undefined : readProcess(pid)?.startTicks;
  const tree = (): number[] => (pid === undefined ? [] : processTree(pid).map((p) => p.pid));
  const attachedAt = Date.now();
  return {
    target,
    endpoint,
    host: target.host,
    port: endpoint.port ?? 0,
    // Without a pid there is no process to name; cases that need one are skipped (see skipReasonFor in runner.ts).
    pid: pid ?? 0,
    serverPid: pid ?? 0,
    launchers: [],
    marker: '',
    command: `${where} (running)`,
    startedAt: attachedAt,
    readyAfterMs: 0,
    stdout: () => '',
    stderr: () => '',
    exitStatus: () => undefined,
    // Without a pid the process cannot be seen: alive as far as the kit can tell (its answers tell the rest).
    serverAlive: () => {
      if (pid === undefined) return true;
      const now = readProcess(pid);
      return now !== undefined && now.startTicks === startTicks && now.state !== 'Z';
    },
    treePids: tree,
    serverPids: tree,
    memberPids: tree,
    sweepPids: tree,
    stop: () => Promise.resolve(),
  };
}
