/**
 * The watchdog: a detached process, one per kit process, that kills every server the kit started
 * when the kit dies without tearing down (SIGINT to Jest, SIGKILL of Jest's main process, a crash).
 * It fires on EOF of its stdin (a pipe from the kit process) or when a watched pid disappears.
 * Usage: node watchdog-process.js <run-marker> <kit-pid> [<jest-main-pid>]
 * stdin lines: `track <sid>` / `untrack <sid>` (session ids of launched targets).
 * When Jest's main process dies, the kit process (a Jest worker) is orphaned: it can never report a
 * result, and a test waiting for ever would keep it alive for ever, so it is ended too.
 */
import { removeOutputFiles } from './captured-output';
import { killMarkedRun } from './reaper';
import { pidExists } from './procfs';

const [marker, ...watched] = process.argv.slice(2);
const sessions = new Set<number>();
let firing = false;

function fire(orphanedWorker?: number): void {
  if (firing) return;
  firing = true;
  killMarkedRun(marker, [...sessions]);
  if (Number(watched[0]) > 0) removeOutputFiles(Number(watched[0])); // the output files of the dead kit's servers
  if (orphanedWorker !== undefined) endOrphanedWorker(orphanedWorker);
  process.exit(0);
}

/** SIGTERM, then SIGKILL if it is still there after a second. */
function endOrphanedWorker(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 20 && pidExists(pid); i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  if (pidExists(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

if (!marker) process.exit(2);
process.stdin.setEncoding('utf8');
let pending = '';
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  const lines = pending.split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    const [verb, arg] = line.split(' ');
    const sid = Number(arg);
    if (verb === 'track' && sid > 1) sessions.add(sid);
    if (verb === 'untrack') sessions.delete(sid);
  }
});
process.stdin.on('end', () => fire());
process.stdin.on('close', () => fire());
process.stdin.on('error', () => fire());
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => fire());

const [kitPid, jestMainPid] = watched.map(Number);
setInterval(() => {
  if (!pidExists(kitPid)) fire();
  else if (jestMainPid > 1 && !pidExists(jestMainPid)) fire(kitPid);
}, 150);
