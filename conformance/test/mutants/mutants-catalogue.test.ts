import { allCases, findCase } from '../../cases';
import { mutants } from '../../../fixtures/mutants/catalogue';
import { casesFor, SAMPLED_CASES } from './mutant-suite';

test('every declared case id exists', () => {
  for (const m of mutants) for (const id of [...m.mustFail, ...(m.mayFail ?? []).map((f) => f.id)]) expect(findCase(id)?.id).toBe(id);
});

test('every MUST case rejects at least one mutant', () => {
  const declared = new Set(mutants.flatMap((m) => m.mustFail));
  const uncovered = allCases.filter((c) => c.level === 'MUST' && !declared.has(c.id)).map((c) => c.id);
  expect(uncovered).toEqual([]);
});

test('mutant names are unique', () => {
  const names = mutants.map((m) => `${m.lang}/${m.name}`);
  expect(new Set(names).size).toBe(names.length);
});

test('the quick tier still runs every case against some mutant that does not declare it (no case escapes the cry-wolf check)', () => {
  const sampled = new Set(mutants.flatMap((m) => {
    const declared = new Set([...m.mustFail, ...(m.blocked ?? []), ...(m.mayFail ?? []).map((f) => f.id)]);
    return casesFor(m, false).filter((c) => !declared.has(c.id)).map((c) => c.id);
  }));
  expect(allCases.filter((c) => !sampled.has(c.id)).map((c) => c.id)).toEqual([]);
});

test('the quick tier runs every declared case of each mutant, and at most a few more', () => {
  for (const m of mutants.filter((x) => !x.onlyCases)) {
    const ids = casesFor(m, false).map((c) => c.id);
    for (const id of m.mustFail) expect(ids).toContain(id);
    expect(ids.length).toBeLessThanOrEqual(m.mustFail.length + (m.blocked?.length ?? 0) + (m.mayFail?.length ?? 0) + SAMPLED_CASES);
  }
});
