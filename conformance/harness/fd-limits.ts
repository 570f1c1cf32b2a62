import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface FdLimits {
  soft: number;
  hard: number;
}

/** A process's descriptor limits (RLIMIT_NOFILE), from /proc/<pid>/limits; undefined when unreadable. */
export function fdLimitsOf(pid: number | 'self'): FdLimits | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'));
    const [soft, hard] = (line ?? '').split(/\s{2,}/).slice(1, 3).map((v) => (v === 'unlimited' ? Infinity : Number(v)));
    return Number.isNaN(soft) || Number.isNaN(hard) || soft === undefined || hard === undefined ? undefined : { soft, hard };
  } catch {
    return undefined;
  }
}

/**
 * Sets another process's soft descriptor limit with prlimit(1) (Node has no setrlimit, and none for
 * another process). Returns why it could not, or undefined when done.
 */
export function setSoftFdLimit(pid: number, soft: number): string | undefined {
  const limits = fdLimitsOf(pid);
  if (!limits) return `cannot read /proc/${pid}/limits`;
  const hard = limits.hard === Infinity ? 'unlimited' : String(limits.hard);
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${soft}:${hard}`], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    return e.code === 'ENOENT' ? 'prlimit (util-linux) is not installed' : `prlimit failed: ${(e.stderr?.toString() || e.message).trim().split('\n')[0]}`;
  }
}
