import { appendFileSync } from 'node:fs';
import { allCases } from '../../cases';
import { CaseResult, ConformanceCase } from '../../cases/types';
import { makeDeadlines, resolveMultiplier } from '../../harness/deadlines';
import { stopAllTargets } from '../../harness/launcher';
import { resolveTarget } from '../../harness/target';
import { runSuite } from '../../runner';
import { Mutant, mutantCommand } from '../../../fixtures/mutants/catalogue';

/** Work delay the mutants run with (the reference suites use the same). */
const DELAY_MS = 200;
/** Cases of one mutant run at the same time (each on its own server; Jest runs two mutants per file at once). */
const MUTANT_JOBS = 4;

interface Verdict {
  declaredButPassed: string[];
  failedButUndeclared: string[];
  /** blocked cases it does not declare, and declared ones that were not blocked */
  blockedUnlike: string[];
  kitErrors: string[];
}

/**
 * `npm test` runs each mutant through the cases it declares plus a fixed sample of the others (the
 * sample rotates with the mutant's name, so together the mutants cover every case);
 * `npm run test:full` (SM_FULL=1) runs every case against every mutant.
 */
export const FULL_MATRIX = process.env.SM_FULL === '1';
/** Undeclared cases each mutant also runs in the quick tier: enough to catch a kit that cries wolf. */
export const SAMPLED_CASES = 4;

/** The cases a mutant runs in this tier, in catalogue order. */
export function casesFor(m: Mutant, full = FULL_MATRIX): ConformanceCase[] {
  if (m.onlyCases) return allCases.filter((c) => m.onlyCases?.ids.includes(c.id));
  if (full) return allCases;
  const declared = new Set([...m.mustFail, ...(m.blocked ?? []), ...(m.mayFail ?? []).map((f) => f.id)]);
  const others = allCases.filter((c) => !declared.has(c.id));
  const seed = [...m.name].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7);
  const step = Math.max(1, Math.floor(others.length / SAMPLED_CASES));
  const sampled = new Set(Array.from({ length: Math.min(SAMPLED_CASES, others.length) }, (_, k) => others[(seed + k * step) % others.length].id));
  return allCases.filter((c) => declared.has(c.id) || sampled.has(c.id));
}

/** Runs the tier's cases against a mutant and compares the failures with what it declares. */
async function verdict(m: Mutant): Promise<Verdict> {
  const target = resolveTarget({ name: `mutant ${m.name}`, cmd: mutantCommand(m), model: m.model, workers: m.workers, delayMs: DELAY_MS });
  const deadlines = makeDeadlines(DELAY_MS, resolveMultiplier());
  // Cases side by side, each on its own server (a mutant that cannot start makes every case blocked,
  // which its declarations then judge).
  const started = Date.now();
  const results = await runSuite(target, casesFor(m), { deadlines, jobs: MUTANT_JOBS, probe: false });
  logTimings(m, Date.now() - started, results);
  const failed = (r: CaseResult | undefined) => r?.outcome === 'fail' || r?.outcome === 'warn';
  const allowed = new Set([...m.mustFail, ...(m.mayFail ?? []).map((f) => f.id)]);
  const blocked = new Set(m.blocked ?? []);
  return {
    declaredButPassed: m.mustFail.filter((id) => !failed(results.find((r) => r.id === id))),
    failedButUndeclared: results.filter((r) => r.outcome === 'fail' && !allowed.has(r.id)).map((r) => `${r.id}: ${r.message}`),
    blockedUnlike: results.filter((r) => (r.outcome === 'blocked') !== blocked.has(r.id)).map((r) => `${r.id}: ${r.outcome} ${r.message ?? ''}`),
    kitErrors: results.filter((r) => r.outcome === 'error').map((r) => `${r.id}: ${r.message}\n${r.stack ?? ''}`),
  };
}

/** With SM_MUTANT_TIMINGS=<file>, one line per mutant: where its time went (for tuning the tier). */
function logTimings(m: Mutant, wallMs: number, results: CaseResult[]): void {
  const file = process.env.SM_MUTANT_TIMINGS;
  if (!file) return;
  const sum = (pick: (r: CaseResult) => number | undefined): number => results.reduce((a, r) => a + (pick(r) ?? 0), 0);
  const slowest = [...results].sort((a, b) => b.durationMs - a.durationMs).slice(0, 3).map((r) => `${r.id} ${r.durationMs}`);
  appendFileSync(file, `${m.name} wall ${wallMs} cases ${results.length} lockWait ${sum((r) => r.timing?.lockWaitMs)} launch ${sum((r) => r.timing?.launchMs)} run ${sum((r) => r.timing?.runMs)} stop ${sum((r) => r.timing?.stopMs)} | ${slowest.join(', ')}\n`);
}

/**
 * The self-test for a group of mutants: each must fail every case it declares (warn for SHOULD
 * cases) and no other MUST case, so the kit both catches the bug and does not cry wolf. Prints the
 * group's mutation score.
 */
export function describeMutants(group: string, list: Mutant[]): void {
  const rejected: string[] = [];
  afterAll(async () => {
    await stopAllTargets();
    process.stdout.write(`mutation score (${group}): ${rejected.length}/${list.length} mutants rejected by their declared cases\n`);
  });
  describe(`mutants: ${group}`, () => {
    for (const m of list) {
      test.concurrent(`${m.lang}/${m.name} (${m.bug}) is rejected by ${m.mustFail[0]}`, async () => {
        expect(await verdict(m)).toEqual({ declaredButPassed: [], failedButUndeclared: [], blockedUnlike: [], kitErrors: [] });
        rejected.push(m.name);
      });
    }
  });
}

/** Splits the catalogue into groups of about equal size, so Jest can run them side by side. */
export function mutantGroup(list: Mutant[], index: number, groups: number): Mutant[] {
  return list.filter((_, i) => i % groups === index);
}
