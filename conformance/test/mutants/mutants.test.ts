import { allCases, findCase } from '../../cases';
import { CaseResult } from '../../cases/types';
import { makeDeadlines, resolveMultiplier } from '../../harness/deadlines';
import { stopAllTargets } from '../../harness/launcher';
import { resolveTarget } from '../../harness/target';
import { runCase } from '../../runner';
import { Mutant, mutantCommand, mutants } from '../../../fixtures/mutants/catalogue';

// The self-test: the kit is worth the bugs it catches. Every mutant must fail every case it
// declares, and no other MUST case (the kit must not cry wolf on what the mutant does right).
const DELAY_MS = 200;
const rejected: string[] = [];

afterAll(async () => {
  await stopAllTargets();
  process.stdout.write(`mutation score: ${rejected.length}/${mutants.length} mutants rejected by their declared cases\n`);
});

test('every declared case id exists', () => {
  for (const m of mutants) for (const id of [...m.mustFail, ...(m.mayFail ?? []).map((f) => f.id)]) expect(findCase(id)?.id).toBe(id);
});

test('every MUST case rejects at least one mutant', () => {
  const declared = new Set(mutants.flatMap((m) => m.mustFail));
  const uncovered = allCases.filter((c) => c.level === 'MUST' && !declared.has(c.id)).map((c) => c.id);
  expect(uncovered).toEqual([]);
});

async function verdict(m: Mutant): Promise<{ unexpectedPass: string[]; unexpectedFail: string[]; results: CaseResult[] }> {
  const target = resolveTarget({ name: `mutant ${m.name}`, cmd: mutantCommand(m), model: m.model, workers: m.workers, delayMs: DELAY_MS });
  const deadlines = makeDeadlines(DELAY_MS, resolveMultiplier());
  const results: CaseResult[] = [];
  for (const c of allCases) results.push(await runCase(c, target, deadlines));
  const failed = (r: CaseResult) => r.outcome === 'fail' || r.outcome === 'non-strict';
  const unexpectedPass = m.mustFail.filter((id) => !failed(results.find((r) => r.id === id) as CaseResult));
  const allowed = new Set([...m.mustFail, ...(m.mayFail ?? []).map((f) => f.id)]);
  const unexpectedFail = results.filter((r) => r.outcome === 'fail' && !allowed.has(r.id)).map((r) => `${r.id}: ${r.message}`);
  return { unexpectedPass, unexpectedFail, results };
}

describe('mutants', () => {
  for (const m of mutants) {
    test.concurrent(`${m.lang}/${m.name} (${m.bug}) is rejected by ${m.mustFail[0]}`, async () => {
      const { unexpectedPass, unexpectedFail } = await verdict(m);
      expect({ declaredButPassed: unexpectedPass, failedButUndeclared: unexpectedFail }).toEqual({ declaredButPassed: [], failedButUndeclared: [] });
      rejected.push(m.name);
    });
  }
});
