import { allCases, findCase } from '../../cases';
import { mutants } from '../../../fixtures/mutants/catalogue';
import { mutantKey, readOutcomes } from '../../../fixtures/mutants/outcomes';
import { casesFor, SAMPLED_CASES } from './mutant-suite';

const outcomes = readOutcomes();

test('every case id the catalogue and the record name exists', () => {
  for (const m of mutants) for (const id of [...m.rejectedBy, ...(m.mayFail ?? []).map((f) => f.id)]) expect(findCase(id)?.id).toBe(id);
  for (const record of Object.values(outcomes.mutants)) for (const id of Object.keys(record)) expect(findCase(id)?.id).toBe(id);
});

test('the record holds every mutant of the catalogue and no other', () => {
  expect(Object.keys(outcomes.mutants).sort()).toEqual(mutants.map(mutantKey).sort());
});

test('the record has each mutant failing the cases named for its bug (fail for MUST, warn for SHOULD)', () => {
  for (const m of mutants) {
    const record = outcomes.mutants[mutantKey(m)] ?? {};
    for (const id of m.rejectedBy) expect(`${mutantKey(m)} ${id}: ${record[id]}`).toBe(`${mutantKey(m)} ${id}: ${findCase(id)?.level === 'MUST' ? 'fail' : 'warn'}`);
  }
});

test('a recorded failure matches its case level: fail only for MUST, warn only for SHOULD', () => {
  for (const [key, record] of Object.entries(outcomes.mutants)) {
    for (const [id, outcome] of Object.entries(record)) {
      if (outcome === 'blocked') continue;
      expect(`${key} ${id}: ${outcome}`).toBe(`${key} ${id}: ${findCase(id)?.level === 'MUST' ? 'fail' : 'warn'}`);
    }
  }
});

test('every MUST case is named for the bug of at least one mutant', () => {
  const named = new Set(mutants.flatMap((m) => m.rejectedBy));
  expect(allCases.filter((c) => c.level === 'MUST' && !named.has(c.id)).map((c) => c.id)).toEqual([]);
});

test('mutant names are unique', () => {
  const names = mutants.map(mutantKey);
  expect(new Set(names).size).toBe(names.length);
});

test('the quick tier still runs every case against some mutant whose bug it is not about (no case escapes the cry-wolf check)', () => {
  const sampled = new Set(mutants.flatMap((m) => casesFor(m, 'quick').filter((c) => !m.rejectedBy.includes(c.id)).map((c) => c.id)));
  expect(allCases.filter((c) => !sampled.has(c.id)).map((c) => c.id)).toEqual([]);
});

test('the quick tier runs the cases named for each bug, and at most a few more', () => {
  for (const m of mutants.filter((x) => !x.onlyCases)) {
    const ids = casesFor(m, 'quick').map((c) => c.id);
    for (const id of m.rejectedBy) expect(ids).toContain(id);
    expect(ids.length).toBeLessThanOrEqual(m.rejectedBy.length + SAMPLED_CASES);
  }
});

test('the full tier runs every case against each mutant (but a slow starter), the quick tier a part of them', () => {
  for (const m of mutants) {
    const full = casesFor(m, 'full');
    expect(casesFor(m, 'quick').every((c) => full.includes(c))).toBe(true);
    expect(full.length).toBe(m.onlyCases ? m.onlyCases.ids.length : allCases.length);
  }
});
