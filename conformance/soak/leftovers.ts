import { listProcesses, pidsWithEnv, ProcessInfo } from '../harness/procfs';
import { pollUntil } from '../harness/deadlines';

/** What a finished run left on the machine. */
export interface Leftovers {
  /** Live processes still carrying the run's environment marker. */
  marked: ProcessInfo[];
  /** Zombies beyond those present before the run began. */
  newZombies: ProcessInfo[];
}

/** Pids of zombies right now, to compare with after a run. */
export function zombiePids(snapshot: ProcessInfo[] = listProcesses()): Set<number> {
  return new Set(snapshot.filter((p) => p.state === 'Z').map((p) => p.pid));
}

function snapshotLeftovers(markerName: string, markerValue: string, zombiesBefore: Set<number>): Leftovers {
  const snapshot = listProcesses();
  const marked = new Set(pidsWithEnv(markerName, markerValue, snapshot));
  return {
    marked: snapshot.filter((p) => marked.has(p.pid) && p.state !== 'Z'),
    newZombies: snapshot.filter((p) => p.state === 'Z' && !zombiesBefore.has(p.pid)),
  };
}

/**
 * Waits up to `graceMs` for a finished run's processes to disappear (the watchdog needs a moment after
 * Jest exits), then reports whatever is still there.
 */
export async function findLeftovers(markerName: string, markerValue: string, zombiesBefore: Set<number>, graceMs: number): Promise<Leftovers> {
  let last = snapshotLeftovers(markerName, markerValue, zombiesBefore);
  await pollUntil(() => {
    last = snapshotLeftovers(markerName, markerValue, zombiesBefore);
    return last.marked.length === 0 && last.newZombies.length === 0;
  }, graceMs, 100);
  return last;
}
