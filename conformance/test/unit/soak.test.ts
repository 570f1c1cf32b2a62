import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readJestResults } from '../../soak/jest-results';
import { findLeftovers, zombiePids } from '../../soak/leftovers';
import { pollUntil } from '../../harness/deadlines';
import { scratchDir } from '../scratch';

describe('soak: reading Jest results', () => {
  const dir = scratchDir('sm-soak');

  test('failed tests and files that could not run are both failures', () => {
    const file = join(dir, 'run.json');
    writeFileSync(
      file,
      JSON.stringify({
        numPassedTests: 3,
        numFailedTests: 1,
        testResults: [
          { name: '/repo/a.test.ts', status: 'failed', assertionResults: [{ fullName: 'a one', status: 'failed' }, { fullName: 'a two', status: 'passed' }] },
          { name: '/repo/b.test.ts', status: 'failed', message: '  Cannot find module x\n  at ...', assertionResults: [] },
          { name: '/repo/c.test.ts', status: 'passed', assertionResults: [{ fullName: 'c', status: 'passed' }] },
        ],
      }),
    );
    expect(readJestResults(file, '/repo')).toEqual({
      passed: 3,
      failed: 2,
      failures: ['a.test.ts › a one', 'b.test.ts: Cannot find module x'],
    });
  });

  test('a run that wrote no results counts as failed', () => {
    const r = readJestResults(join(dir, 'missing.json'), '/repo');
    expect(r.failed).toBe(1);
    expect(r.failures[0]).toMatch(/no Jest results/);
  });
});

describe('soak: leftovers', () => {
  test('a process carrying the marker is reported until it is gone', async () => {
    const marker = `soak-test-${process.pid}`;
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { env: { ...process.env, SM_SOAK_TEST: marker }, stdio: 'ignore' });
    const zombies = zombiePids();
    try {
      expect(await pollUntil(() => child.pid !== undefined, 2000)).toBe(true);
      const found = await findLeftovers('SM_SOAK_TEST', marker, zombies, 200);
      expect(found.marked.map((p) => p.pid)).toContain(child.pid);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((done) => child.once('exit', done));
    const after = await findLeftovers('SM_SOAK_TEST', marker, zombies, 5000);
    expect(after.marked).toEqual([]);
  });
});
