import { CaseResult } from '../cases/types';
import { ImplementationReport, RunReport } from './run-report';

/**
 * What a case result means for the run:
 * - failed: a MUST failure (or a SHOULD one under --strict) that was not expected: fails the run;
 * - expected-failure: a failure listed in --expect-fail: shown, does not fail the run;
 * - unexpected-pass: listed in --expect-fail but passed: reported so the list can be pruned;
 * - warn: a SHOULD failure without --strict;
 * - blocked: the measurement could not be made (the failures that explain it fail the run);
 * - kit-error: the kit failed: the run exits 2, the server is not judged.
 */
export type Verdict = 'passed' | 'failed' | 'expected-failure' | 'unexpected-pass' | 'warn' | 'skipped' | 'info' | 'blocked' | 'kit-error';

/** Judges one case result given whether it was expected to fail and whether SHOULD cases are strict. */
export function judgeCase(r: CaseResult, expectedToFail: boolean, strict: boolean): Verdict {
  if (r.outcome === 'error') return 'kit-error';
  if (r.outcome === 'blocked') return 'blocked';
  const failed = r.outcome === 'fail' || (strict && r.outcome === 'warn');
  if (failed) return expectedToFail ? 'expected-failure' : 'failed';
  if (r.outcome === 'warn') return expectedToFail ? 'expected-failure' : 'warn';
  if (r.outcome === 'pass') return expectedToFail ? 'unexpected-pass' : 'passed';
  return r.outcome === 'skip' ? 'skipped' : 'info';
}

/** Verdicts of one implementation's cases, keyed by case id. */
export function judgeImplementation(impl: ImplementationReport, strict: boolean): Map<string, Verdict> {
  const expected = new Set(impl.expectedFailures ?? []);
  return new Map(impl.cases.map((r) => [r.id, judgeCase(r, expected.has(r.id), strict)]));
}

/** Exit status of a run: 2 when a target could not be checked or the kit failed, 1 when a case failed, else 0. */
export function exitCodeOf(report: RunReport, strict: boolean): number {
  if (report.implementations.some((i) => i.error !== undefined || i.cases.some((r) => r.outcome === 'error'))) return 2;
  const failed = report.implementations.some((i) => [...judgeImplementation(i, strict).values()].includes('failed'));
  return failed ? 1 : 0;
}
