import { allCases, matchCases } from './index';
import { ConformanceCase } from './types';
import { UsageError } from '../flags';

/**
 * The cases a run uses: those matching any `--only` glob (all when none is given), minus those
 * matching any `--skip` glob. A glob that matches no case id is a usage error (a typo would
 * otherwise silently run everything or nothing).
 */
export function selectCases(only: string[] = [], skip: string[] = [], cases: ConformanceCase[] = allCases): ConformanceCase[] {
  for (const [flag, globs] of [['--only', only], ['--skip', skip]] as const) {
    for (const g of globs) {
      if (matchCases(g, cases).length === 0) throw new UsageError(`${flag} ${g} matches no case id (see: server-models list)`);
    }
  }
  const chosen = only.length === 0 ? cases : cases.filter((c) => only.some((g) => matchCases(g, [c]).length > 0));
  const left = chosen.filter((c) => !skip.some((g) => matchCases(g, [c]).length > 0));
  if (left.length === 0) throw new UsageError('--only and --skip leave no case to run');
  return left;
}
