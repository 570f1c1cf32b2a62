import { allCases, findCase } from '../../cases';
import { mutants } from '../../../fixtures/mutants/catalogue';

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
