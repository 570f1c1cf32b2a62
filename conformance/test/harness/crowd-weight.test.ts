import { weighSession } from '../../harness/crowd-weight';
import { makeDeadlines } from '../../harness/deadlines';
import { launchTarget, stopAllTargets } from '../../harness/launcher';
import { crowdsAreHeavy } from '../../harness/models';
import { resolveTarget } from '../../harness/target';
import { referenceTarget } from '../../reference';

const deadlines = makeDeadlines(50, 1);
afterAll(() => stopAllTargets());

async function weigh(lang: 'ts' | 'c', model: 'fork-per-connection' | 'event-loop') {
  const server = await launchTarget(resolveTarget(referenceTarget(model, lang, 50)), deadlines);
  try {
    return await weighSession(server, deadlines);
  } finally {
    await server.stop();
  }
}

describe('weighSession: what one session\'s process costs', () => {
  test('a Node process started per session is heavy', async () => {
    expect(await weigh('ts', 'fork-per-connection')).toBe('heavy');
  });

  const c = referenceTarget('fork-per-connection', 'c', 50);
  (c.available ? test : test.skip)('a bare fork() per session is light (C reference server)', async () => {
    expect(await weigh('c', 'fork-per-connection')).toBe('light');
  });

  test('no process per session: nothing to weigh', async () => {
    expect(await weigh('ts', 'event-loop')).toBeUndefined();
  });

  test('crowds count heavy until weighed light', () => {
    const fork = resolveTarget(referenceTarget('fork-per-connection', 'ts', 50));
    expect(crowdsAreHeavy(fork)).toBe(true);
    expect(crowdsAreHeavy({ ...fork, crowdWeight: 'heavy' })).toBe(true);
    expect(crowdsAreHeavy({ ...fork, crowdWeight: 'light' })).toBe(false);
    expect(crowdsAreHeavy(resolveTarget(referenceTarget('event-loop', 'ts', 50)))).toBe(false);
  });
});
