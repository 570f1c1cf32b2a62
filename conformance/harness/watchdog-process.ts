/**
 * The watchdog: a detached process, one per kit process, that kills every server the kit started
 * when the kit dies without tearing down (SIGINT to Jest, SIGKILL of Jest's main process, a crash).
 * It fires on EOF of its stdin (a pipe from the kit process) or when a watched pid disappears.
 * Usage: node watchdog-process.js <run-marker> <watched-pid>...
 * stdin lines: `track <sid>` / `untrack <sid>` (session ids of launched targets).
 */
import { killMarkedRun } from './reaper';

const [marker, ...watched] = process.argv.slice(2);
const sessions = new Set<number>();
let firing = false;

function fire(): void {
  if (firing) return;
  firing = true;
  killMarkedRun(marker, [...sessions]);
  process.exit(0);
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
process.stdin.on('end', fire);
process.stdin.on('close', fire);
process.stdin.on('error', fire);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, fire);

const watchedPids = watched.map(Number).filter((p) => p > 1);
setInterval(() => {
  for (const pid of watchedPids) {
    try {
      process.kill(pid, 0);
    } catch {
      fire();
    }
  }
}, 150);
