import { selectCases } from '../cases/selection';
import { CaseResult, ConformanceCase, Outcome } from '../cases/types';
import { Deadlines, makeDeadlines, resolveMultiplier } from '../harness/deadlines';
import { LaunchedTarget } from '../harness/launcher';
import { resolveTarget, TargetSpec } from '../harness/target';
import { formatResult } from '../reports/console';
import { blockedByOutsideLoad, planBatches, PlannedUnit, runPlans } from '../runner';

export interface ConformanceOptions {
  /** Cases to run (default: all). */
  cases?: ConformanceCase[];
  /** Only the cases whose id matches one of these globs, e.g. 'protocol.*'. */
  only?: string[];
  /** Leave out the cases whose id matches one of these globs. */
  skip?: string[];
  /** Timeout multiplier (default: SM_TIMEOUT_MULTIPLIER or 1). */
  timeoutMultiplier?: number;
  /** Outcomes that fail the Jest test (default: only 'fail', i.e. a failed MUST case); a kit error always does. */
  failOn?: Outcome[];
  /**
   * Runs the cases side by side (Jest's test.concurrent, up to its maxConcurrency), each on its own
   * server; cases that need the machine alone still take the machine lock. Default: one after another.
   */
  concurrent?: boolean;
  /** Receives every result, e.g. to collect a report. */
  onResult?: (result: CaseResult) => void;
  /** Jest's timeout for each case's test (default: {@link caseTestTimeoutMs}). */
  testTimeoutMs?: number;
}

/**
 * Jest's own timeout for a case: only a net under the kit's deadlines, which end every case. Long
 * enough for the slowest case at the declared delay plus a wait for the machine lock, so a project
 * that keeps Jest's 5 s default needs no setting.
 */
export function caseTestTimeoutMs(deadlines: Deadlines): number {
  return Math.max(300_000 * deadlines.multiplier, 100 * deadlines.ack());
}

/**
 * Declares one Jest `describe` for a target with one `test` per case id, for use in any project's
 * Jest tests. Every server a case starts is stopped when the case ends, and again after the file.
 */
export function describeConformance(spec: TargetSpec, options: ConformanceOptions = {}): void {
  const target = resolveTarget(spec);
  const deadlines = makeDeadlines(target.delayMs, resolveMultiplier(options.timeoutMultiplier));
  const failOn = options.failOn ?? ['fail'];
  describe(`${target.name} [${target.model}]`, () => {
    // Only this describe's servers: with concurrent tests, another describe's cases may still be running.
    const started: LaunchedTarget[] = [];
    afterAll(() => Promise.all(started.map((s) => s.stop())));
    const declare = options.concurrent ? test.concurrent : test;
    const timeoutMs = options.testTimeoutMs ?? caseTestTimeoutMs(deadlines);
    const selected = selectCases(options.only, options.skip, options.cases);
    // Cases sharing an exercise share one server and one run of it; the units that need the machine
    // alone run together under one hold of the lock. The first test of a batch to run starts it, the
    // others wait for its results.
    const batches = planBatches(selected, target, deadlines);
    const running = new Map<PlannedUnit[], Promise<CaseResult[][]>>();
    const resultOf = async (c: ConformanceCase): Promise<CaseResult> => {
      const batch = batches.find((b) => b.some((plan) => plan.unit.includes(c))) as PlannedUnit[];
      let results = running.get(batch);
      if (!results) running.set(batch, (results = runPlans(batch, { onLaunch: (s) => started.push(s) })));
      const u = batch.findIndex((plan) => plan.unit.includes(c));
      return (await results)[u][batch[u].unit.indexOf(c)];
    };
    for (const c of selected) {
      declare(`${c.id} (${c.level})`, async () => {
        const result = await resultOf(c);
        options.onResult?.(result);
        // A deadline missed while other programs loaded the machine was not measured, for the machine's sake:
        // said, never a failure of the server (see CaseLate).
        if (blockedByOutsideLoad(result)) console.warn(formatResult(result, false));
        else if (failOn.includes(result.outcome) || result.outcome === 'error') throw new Error(`${formatResult(result, false)}${result.stack ? `\n${result.stack}` : ''}`);
      }, timeoutMs);
    }
  });
}
