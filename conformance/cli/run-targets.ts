import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { CaseResult, ConformanceCase } from '../cases/types';
import { makeDeadlines } from '../harness/deadlines';
import { LaunchError } from '../harness/launcher';
import { packageRoot } from '../harness/paths';
import { Target } from '../harness/target';
import { jobsFor, runSuite } from '../runner';
import { ImplementationReport, RunReport } from '../reports/run-report';

/** The kit's own version, from its package.json. */
export function kitVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

export interface RunTargetsOptions {
  cases: ConformanceCase[];
  multiplier: number;
  /** Cases run at the same time per target (each on its own server); 1 runs them one after another. */
  jobs?: number;
  /** Case ids expected to fail, per target name. */
  expectedFailures?: (target: Target) => string[];
  onTargetStart?: (target: Target, index: number) => void;
  onCaseStart?: (target: Target, c: ConformanceCase, index: number, total: number) => void;
  onResult?: (target: Target, result: CaseResult, index: number) => void;
  /** A target that cannot be started: reported in the run, the run goes on with the next one. */
  onTargetError?: (target: Target, message: string) => void;
}

/** Cases run at once by default: one per core (each case's server mostly waits out its work delay). */
export function defaultJobs(): number {
  // A case spends most of its time waiting for the server's work delay, not computing: two per core
  // (and two more) keep a small machine busy; cases that need it alone still take the machine lock.
  return Math.min(MAX_DEFAULT_JOBS, 2 * availableParallelism() + 2);
}

/** Servers a check starts side by side at most, unless --jobs says more. */
export const MAX_DEFAULT_JOBS = 16;

/** Checks targets one after the other and gathers everything the reports need. */
export async function runTargets(targets: Target[], options: RunTargetsOptions): Promise<RunReport> {
  const started = Date.now();
  const implementations: ImplementationReport[] = [];
  for (const target of targets) {
    options.onTargetStart?.(target, implementations.length);
    const impl: ImplementationReport = {
      name: target.name,
      model: target.model,
      cmd: target.cmd,
      delayMs: target.delayMs,
      limit: target.limit,
      cases: [],
      expectedFailures: options.expectedFailures?.(target),
    };
    const began = Date.now();
    try {
      let n = 0;
      impl.jobs = jobsFor(target, options.jobs ?? 1);
      impl.cases = await runSuite(target, options.cases, {
        deadlines: makeDeadlines(target.delayMs, options.multiplier),
        jobs: options.jobs,
        onCaseStart: (c, index, total) => options.onCaseStart?.(target, c, index, total),
        onResult: (r) => options.onResult?.(target, r, ++n),
      });
    } catch (err) {
      if (!(err instanceof LaunchError)) throw err;
      impl.error = err.message;
      options.onTargetError?.(target, err.message);
    }
    impl.durationMs = Date.now() - began;
    implementations.push(impl);
  }
  return {
    tool: 'server-models',
    version: kitVersion(),
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    timeoutMultiplier: options.multiplier,
    implementations,
  };
}
