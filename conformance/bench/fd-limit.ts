import { execFileSync } from 'node:child_process';
import { FdLimits, fdLimitsOf } from '../harness/fd-limits';

/** This process's descriptor limits (RLIMIT_NOFILE), from /proc/self/limits. */
export function fdLimits(): FdLimits | undefined {
  return fdLimitsOf('self');
}

export interface FdBudget {
  /** Descriptors this process may now open. */
  soft: number;
  hard: number;
  /** What was done, in words, for the report. */
  note: string;
}

/**
 * Makes room for `needed` descriptors: raises this process's soft limit up to the hard limit with
 * prlimit(1) when it is too low (servers started afterwards inherit it). Node has no setrlimit.
 */
export function ensureFdBudget(needed: number): FdBudget {
  const limits = fdLimits();
  if (!limits) return { soft: needed, hard: needed, note: 'descriptor limit unknown (no /proc); assumed sufficient' };
  if (limits.soft >= needed) return { ...limits, note: `descriptor limit ${limits.soft} (soft) already allows ${needed}` };
  const target = Math.min(limits.hard, Math.max(needed, limits.soft));
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${target}:${limits.hard}`], { stdio: 'ignore' });
  } catch (err) {
    return { ...limits, note: `descriptor limit ${limits.soft} could not be raised (prlimit: ${(err as Error).message.split('\n')[0]})` };
  }
  const now = fdLimits() ?? limits;
  const enough = now.soft >= needed;
  return {
    ...now,
    note: enough
      ? `descriptor limit raised from ${limits.soft} to ${now.soft} for this run`
      : `descriptor limit raised from ${limits.soft} to the hard limit ${now.hard}, which is below the ${needed} needed`,
  };
}
