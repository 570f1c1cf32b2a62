import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from './deadlines';

/**
 * A machine-wide reader/writer lock between every kit process (Jest workers, concurrent mutant
 * runs, CLI runs). Ordinary cases hold it shared; a case that loads the machine in bursts (a process
 * per connection for a crowd, a flood) or measures timing holds it exclusively, so it neither starves
 * nor is starved by its neighbours. Holders are files named after their pid: a dead holder's entry is
 * stale and removed, so a killed run never blocks the next.
 */
const LOCK_DIR = join(tmpdir(), `server-models-lock-${process.getuid?.() ?? 'user'}`);
const EXCLUSIVE = join(LOCK_DIR, 'exclusive');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function exclusiveOwner(): number | undefined {
  try {
    return Number(readFileSync(join(EXCLUSIVE, 'pid'), 'utf8')) || -1;
  } catch {
    return undefined; // no exclusive holder (or it is being created: its pid file follows at once)
  }
}

/** Removes the exclusive entry if its owner died. */
function clearStaleExclusive(): void {
  const owner = exclusiveOwner();
  if (owner !== undefined && owner > 0 && !alive(owner)) rmSync(EXCLUSIVE, { recursive: true, force: true });
}

function liveSharedHolders(): number {
  let n = 0;
  for (const name of readdirSync(LOCK_DIR)) {
    const m = /^shared\.(\d+)\./.exec(name);
    if (!m) continue;
    if (alive(Number(m[1]))) n++;
    else rmSync(join(LOCK_DIR, name), { force: true });
  }
  return n;
}

let counter = 0;
const NEVER = 24 * 3600 * 1000;

/** Runs `work` holding the lock shared (many at once) or exclusive (alone). */
export async function withMachineLock<T>(mode: 'shared' | 'exclusive', work: () => Promise<T>): Promise<T> {
  mkdirSync(LOCK_DIR, { recursive: true });
  let release: () => void;
  if (mode === 'exclusive') {
    await pollUntil(() => {
      clearStaleExclusive();
      try {
        mkdirSync(EXCLUSIVE);
      } catch {
        return false;
      }
      writeFileSync(join(EXCLUSIVE, 'pid'), String(process.pid));
      return true;
    }, NEVER, 20);
    // Writer preference: shared holders wait while EXCLUSIVE exists; wait for those inside to leave.
    await pollUntil(() => liveSharedHolders() === 0, NEVER, 20);
    release = () => rmSync(EXCLUSIVE, { recursive: true, force: true });
  } else {
    const entry = join(LOCK_DIR, `shared.${process.pid}.${counter++}`);
    await pollUntil(() => {
      clearStaleExclusive();
      if (exclusiveOwner() !== undefined) return false;
      writeFileSync(entry, '');
      if (exclusiveOwner() === undefined) return true;
      rmSync(entry, { force: true }); // an exclusive holder arrived meanwhile: let it go first
      return false;
    }, NEVER, 20);
    release = () => rmSync(entry, { force: true });
  }
  try {
    return await work();
  } finally {
    release();
  }
}
