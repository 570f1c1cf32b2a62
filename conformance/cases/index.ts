import { closeCases } from './close';
import { concurrencyCases } from './concurrency';
import { protocolCases } from './protocol';
import { resourceCases } from './resources';
import { exhaustionCases } from './exhaustion';
import { robustnessCases } from './robustness';
import { lifecycleCases } from './lifecycle';
import { ConformanceCase } from './types';

/** Every case of the kit, in run order. Ids are stable: reports and expect-fail lists key on them. */
export const allCases: ConformanceCase[] = [
  ...protocolCases, ...closeCases, ...concurrencyCases, ...resourceCases, ...exhaustionCases, ...robustnessCases, ...lifecycleCases,
];

export function findCase(id: string): ConformanceCase | undefined {
  return allCases.find((c) => c.id === id);
}

/** Cases whose id matches a glob; `*` matches any run of characters, dots included. */
export function matchCases(glob: string, cases: ConformanceCase[] = allCases): ConformanceCase[] {
  const pattern = new RegExp(`^${glob.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return cases.filter((c) => pattern.test(c.id));
}
