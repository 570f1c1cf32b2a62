import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { CaseResult, ConformanceCase } from '../cases/types';
import { makeDeadlines } from '../harness/deadlines';
import { LaunchError } from '../harness/launcher';
import { packageRoot } from '../harness/paths';
import { Target } from '../harness/target';
import { runSuite } from '../runner';
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
  return Math.max(1, availableParallelism());
}

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
    try {
      let n = 0;
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
