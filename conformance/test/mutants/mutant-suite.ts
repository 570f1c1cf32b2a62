import { appendFileSync } from 'node:fs';
import { allCases } from '../../cases';
import { CaseResult, ConformanceCase } from '../../cases/types';
import { stopAllTargets } from '../../harness/launcher';
import { Mutant, mutants } from '../../../fixtures/mutants/catalogue';
import { appliesToModel } from '../../cases/applies-to';
import { Tier, TIER } from '../tier';
import { judgeMutant, matrixCasesFor, mutantKey, MutantVerdict, readOutcomes, RecordedOutcome, runMutant } from '../../../fixtures/mutants/outcomes';
/** Cases of one mutant run at the same time (each on its own server; Jest runs two mutants per file at once). */
const MUTANT_JOBS = 4;

/**
 * The quick tier runs each mutant through the cases its bug is about plus a fixed sample of the others
 * (together the mutants cover every case); the full tier runs every case against every mutant, as
 * `npm run mutants` does. Either way every outcome is compared with the mutant's record in
 * outcomes.json. SAMPLED_CASES: the other cases each mutant also runs in the quick tier, enough to
 * catch a kit that cries wolf.
 */
export const SAMPLED_CASES = 2;

/**
 * The other cases each mutant of the catalogue samples: in catalogue order, each mutant takes the
 * SAMPLED_CASES least sampled so far of the cases that apply to its model and are not named for its
 * bug, so together the mutants meet every case that way.
 */
const samples: ReadonlyMap<Mutant, ReadonlySet<string>> = (() => {
  const picked = new Map<Mutant, Set<string>>();
  const times = new Map<string, number>(allCases.map((c) => [c.id, 0]));
  for (const m of mutants.filter((x) => !x.onlyCases)) {
    const candidates = allCases.filter((c) => !m.rejectedBy.includes(c.id) && appliesToModel(c.appliesTo, m.model));
    const chosen = [...candidates].sort((a, b) => (times.get(a.id) ?? 0) - (times.get(b.id) ?? 0)).slice(0, SAMPLED_CASES);
    for (const c of chosen) times.set(c.id, (times.get(c.id) ?? 0) + 1);
    picked.set(m, new Set(chosen.map((c) => c.id)));
  }
  return picked;
})();

/** The cases a mutant runs in the quick tier, in catalogue order (all of them for a slow starter). */
export function quickCasesFor(m: Mutant): ConformanceCase[] {
  if (m.onlyCases) return matrixCasesFor(m);
  return allCases.filter((c) => m.rejectedBy.includes(c.id) || samples.get(m)?.has(c.id));
}

/** The cases a mutant runs in a tier: the quick ones, or the whole matrix (the long tier leaves the matrix to the full one). */
export function casesFor(m: Mutant, tier: Tier = TIER): ConformanceCase[] {
  if (tier === 'long') return [];
  return tier === 'full' ? matrixCasesFor(m) : quickCasesFor(m);
}

/** Runs the tier's cases against a mutant and compares every outcome with its record. */
async function verdict(m: Mutant, record: Record<string, RecordedOutcome>): Promise<MutantVerdict> {
  // A mutant that cannot start makes every case blocked, which its record then judges.
  const started = Date.now();
  const results = await runMutant(m, casesFor(m), MUTANT_JOBS);
  logTimings(m, Date.now() - started, results);
  return judgeMutant(m, results, record);
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
 * The self-test for a group of mutants: each must give every case it runs the outcome its record in
 * outcomes.json holds, so the kit both catches the bug (the cases named in `rejectedBy` fail it) and
 * does not cry wolf (no other case fails it unrecorded). Prints the group's mutation score.
 */
export function describeMutants(group: string, list: Mutant[]): void {
  const outcomes = readOutcomes();
  const rejected: string[] = [];
  afterAll(async () => {
    await stopAllTargets();
    process.stdout.write(`mutation score (${group}): ${rejected.length}/${list.length} mutants rejected by the cases named for their bug\n`);
  });
  describe(`mutants: ${group}`, () => {
    for (const m of list.filter((x) => casesFor(x).length > 0)) {
      test.concurrent(`${mutantKey(m)} (${m.bug}) is rejected by ${m.rejectedBy.join(', ')}`, async () => {
        expect(await verdict(m, outcomes.mutants[mutantKey(m)] ?? {})).toEqual({ unlike: [], kitErrors: [] });
        rejected.push(m.name);
      });
    }
  });
}

/** Splits the catalogue into groups of about equal size, so Jest can run them side by side. */
export function mutantGroup(list: Mutant[], index: number, groups: number): Mutant[] {
  return list.filter((_, i) => i % groups === index);
}
