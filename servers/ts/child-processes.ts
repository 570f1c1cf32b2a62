// Bookkeeping for models that run worker processes: who is alive, and how to stop them all
// with every one of them reaped before the parent exits.
import type { ChildProcess, Serializable } from 'child_process';
import { readdirSync, readFileSync } from 'fs';

export class ChildSet {
  private readonly children = new Map<number, { child: ChildProcess; exited: Promise<void> }>();

  /** Tracks `child` until Node has reaped it (its 'exit' event comes from waitpid). */
  add(child: ChildProcess, onExit?: (code: number | null, signal: NodeJS.Signals | null) => void): void {
    const pid = child.pid;
    if (pid === undefined) return; // fork failed; its 'error' event says why
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.children.delete(pid);
        resolve();
        onExit?.(code, signal);
      });
    });
    // A dead child's IPC channel reports EPIPE and the like; the 'exit' event is what counts.
    child.on('error', () => undefined);
    this.children.set(pid, { child, exited });
  }

  get size(): number {
    return this.children.size;
  }

  all(): ChildProcess[] {
    return [...this.children.values()].map((entry) => entry.child);
  }

  /** Sends `message` to every child that can still receive it. */
  tell(message: Serializable): void {
    for (const child of this.all()) {
      if (child.connected) child.send(message, () => undefined);
    }
  }

  /** Waits until all children exited; after `ms`, SIGKILLs the rest and waits for them to be reaped. */
  async waitAllExited(ms: number): Promise<void> {
    const allExited = (): Promise<unknown> => Promise.all([...this.children.values()].map((e) => e.exited));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    await Promise.race([allExited(), expired]);
    clearTimeout(timer);
    for (const child of this.all()) child.kill('SIGKILL');
    await allExited();
  }
}

/**
 * Descriptors this process may still open before EMFILE (Linux /proc), or undefined where it cannot
 * tell. A spawn that runs out half-way leaks the descriptors it had made, so callers check first.
 */
export function descriptorHeadroom(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = Number((line ?? '').split(/\s{2,}/)[1]);
    // The listing itself holds one descriptor while it reads the directory.
    return Number.isFinite(soft) ? soft - (readdirSync('/proc/self/fd').length - 1) : undefined;
  } catch {
    return undefined;
  }
}
