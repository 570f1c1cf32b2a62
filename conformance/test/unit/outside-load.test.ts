import { ChildProcess, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { CaseFailure, CaseLate, ConformanceCase } from '../../cases/types';
import { makeDeadlines, pollUntil } from '../../harness/deadlines';
import { stopAllTargets } from '../../harness/launcher';
import { OUTSIDE_LOAD_BOUND, watchOutsideLoad } from '../../harness/outside-load';
import { resolveTarget } from '../../harness/target';
import { referenceTarget } from '../../reference';
import { runSuite } from '../../runner';
import { caseDefaults } from '../case-defaults';

afterAll(() => stopAllTargets());

const target = resolveTarget(referenceTarget('event-loop', 'c', 100));
const deadlines = makeDeadlines(100, 1);

/** A spinning process per core, in its own group, for `ms` at most: load from outside the kit and the server. */
function hogs(ms: number): ChildProcess[] {
  return Array.from({ length: availableParallelism() }, () =>
    spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; while (Date.now() < end);`], { detached: true, stdio: 'ignore' }));
}
async function stopHogs(all: ChildProcess[]): Promise<void> {
  for (const h of all) if (h.exitCode === null && h.pid) process.kill(-h.pid, 'SIGKILL');
  await pollUntil(() => all.every((h) => h.exitCode !== null || h.signalCode !== null), 5000);
}

/** An exclusive case that misses a deadline (or fails otherwise) while `hogged` loads the machine. */
function missing(id: string, error: () => Error, hogged: boolean): ConformanceCase {
  return {
    ...caseDefaults, id, level: 'MUST', title: id, exclusive: true,
    async run() {
      const spinning = hogged ? hogs(3000) : [];
      try {
        await new Promise((resolve) => setTimeout(resolve, 800)); // the load to measure: time, not a condition
      } finally {
        await stopHogs(spinning);
      }
      throw error();
    },
  };
}

describe('other programs loading the machine', () => {
  test('are seen: a spinning process per core takes more than the bound', async () => {
    const watch = watchOutsideLoad(() => []);
    const spinning = hogs(3000);
    try {
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(watch.share()).toBeGreaterThan(OUTSIDE_LOAD_BOUND);
    } finally {
      await stopHogs(spinning);
    }
  });

  test('make a deadline missed with the machine alone blocked, not failed; other failures stay failures', async () => {
    const late = (): Error => new CaseLate('an ack within 100 ms', 'nothing yet');
    const wrong = (): Error => new CaseFailure('"ack"', '"nak"');
    const results = await runSuite(target, [missing('late.loaded', late, true), missing('wrong.loaded', wrong, true)], { deadlines, probe: false });
    expect(results[0]).toMatchObject({ outcome: 'blocked', evidence: { outsideCpu: expect.stringMatching(/^\d+%$/) } });
    expect(results[0].message).toMatch(/^expected an ack within 100 ms; saw nothing yet; but other programs took \d+% of the machine's CPU time meanwhile/);
    expect(results[1]).toMatchObject({ outcome: 'fail', actual: '"nak"' });
  });
});
