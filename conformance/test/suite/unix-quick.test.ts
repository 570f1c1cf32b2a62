import { describeReference } from './reference-suite';
import { allCases } from '../../cases';
import { makeDeadlines } from '../../harness/deadlines';
import { stopAllTargets } from '../../harness/launcher';
import { resolveTarget } from '../../harness/target';
import { runSuite } from '../../runner';
import { mutantCommand, mutants } from '../../../fixtures/mutants/catalogue';
import { MUTANT_DELAY_MS } from '../../../fixtures/mutants/outcomes';

// The quick tier's servers over a Unix-domain socket ({socket}): one C and one TypeScript server, one of
// them a process pool sharing the listening socket. unix-long.test.ts runs the other ten.
describeReference('event-loop', 'c', { transport: 'unix' });
describeReference('prefork', 'ts', { transport: 'unix' });

describe('a mutant over a Unix socket', () => {
  afterAll(stopAllTargets);
  test('ts/ignores-eof (never closes after the client\'s end of file) is rejected by every case named for its bug', async () => {
    const m = mutants.find((x) => x.lang === 'ts' && x.name === 'ignores-eof');
    if (m === undefined) throw new Error('ignores-eof is missing from the catalogue');
    const target = resolveTarget({ name: m.name, cmd: mutantCommand(m, true), model: m.model, delayMs: MUTANT_DELAY_MS });
    const cases = allCases.filter((c) => m.rejectedBy.includes(c.id));
    const results = await runSuite(target, cases, { deadlines: makeDeadlines(MUTANT_DELAY_MS, 1), jobs: 4 });
    expect(results.map((r) => [r.id, r.outcome])).toEqual(cases.map((c) => [c.id, 'fail']));
  });
});
