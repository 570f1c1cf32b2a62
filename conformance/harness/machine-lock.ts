import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from './deadlines';
import { pidExists } from './procfs';

/**
 * A machine-wide reader/writer lock between every kit process (Jest workers, concurrent mutant
 * runs, CLI runs). Ordinary cases hold it shared; a case that loads the machine in bursts (a process
 * per connection for a crowd, a flood) or measures timing holds it exclusively, so it neither starves
 * nor is starved by its neighbours. Holders are files named after their pid: a dead holder's entry is
 * stale and removed, so a killed run never blocks the next.
 */
/** The lock's directory: one per user on the machine; SM_LOCK_DIR gives another (the lock's own tests, a test that moves TMPDIR). */
export function machineLockDir(): string {
  return process.env.SM_LOCK_DIR ?? join(tmpdir(), `server-models-lock-${process.getuid?.() ?? 'user'}`);
}
const exclusiveDir = (): string => join(machineLockDir(), 'exclusive');

function exclusiveOwner(): number | undefined {
  try {
    return Number(readFileSync(join(exclusiveDir(), 'pid'), 'utf8')) || -1;
  } catch {
    return undefined; // no exclusive holder (or it is being created: its pid file follows at once)
  }
}

/** Removes the exclusive entry if its owner died. */
function clearStaleExclusive(): void {
  const owner = exclusiveOwner();
  if (owner !== undefined && owner > 0 && !pidExists(owner)) rmSync(exclusiveDir(), { recursive: true, force: true });
}

/** Entries of live holders (or waiters) of a kind; entries of dead processes are removed. */
function liveEntries(kind: 'shared' | 'waiting'): number {
  let n = 0;
  const pattern = new RegExp(`^${kind}\\.(\\d+)\\.`);
  for (const name of readdirSync(machineLockDir())) {
    const m = pattern.exec(name);
    if (!m) continue;
    if (pidExists(Number(m[1]))) n++;
    else rmSync(join(machineLockDir(), name), { force: true });
  }
  return n;
}

let counter = 0;
const NEVER = 24 * 3600 * 1000;

/** A hold of the machine lock, as the work holding it sees it. */
export interface LockHold {
  /**
   * Runs `work` with the machine to itself, then holds the lock as before. From a shared hold, the
   * shared entry is given up first (holding it would wait on itself), so other holders may run between.
   */
  alone<T>(work: () => Promise<T>): Promise<T>;
}

async function acquireExclusive(): Promise<() => void> {
  mkdirSync(machineLockDir(), { recursive: true });
  // Announced while waiting: no new shared holder starts meanwhile, so exclusive holders follow one
  // another without a drain of the machine between each (the shared ones run in between batches).
  const waiting = join(machineLockDir(), `waiting.${process.pid}.${counter++}`);
  writeFileSync(waiting, '');
  await pollUntil(() => {
    clearStaleExclusive();
    try {
      mkdirSync(exclusiveDir());
    } catch {
      return false;
    }
    writeFileSync(join(exclusiveDir(), 'pid'), String(process.pid));
    return true;
  }, NEVER, 20);
  rmSync(waiting, { force: true });
  // Writer preference: shared holders wait while the exclusive entry exists; wait for those inside to leave.
  await pollUntil(() => liveEntries('shared') === 0, NEVER, 20);
  return () => rmSync(exclusiveDir(), { recursive: true, force: true });
}

async function acquireShared(): Promise<() => void> {
  mkdirSync(machineLockDir(), { recursive: true });
  const entry = join(machineLockDir(), `shared.${process.pid}.${counter++}`);
  await pollUntil(() => {
    clearStaleExclusive();
    const free = (): boolean => exclusiveOwner() === undefined && liveEntries('waiting') === 0;
    if (!free()) return false;
    writeFileSync(entry, '');
    if (free()) return true;
    rmSync(entry, { force: true }); // an exclusive holder arrived meanwhile: let it go first
    return false;
  }, NEVER, 20);
  return () => rmSync(entry, { force: true });
}

/** Runs `work` holding the lock shared (many at once) or exclusive (alone). */
export async function withMachineLock<T>(mode: 'shared' | 'exclusive', work: (hold: LockHold) => Promise<T>): Promise<T> {
  let release = mode === 'exclusive' ? await acquireExclusive() : await acquireShared();
  const hold: LockHold = {
    alone: async (inner) => {
      if (mode === 'exclusive') return inner();
      release();
      const releaseExclusive = await acquireExclusive();
      try {
        return await inner();
      } finally {
        releaseExclusive();
        release = await acquireShared();
      }
    },
  };
  try {
    return await work(hold);
  } finally {
    release();
  }
}
