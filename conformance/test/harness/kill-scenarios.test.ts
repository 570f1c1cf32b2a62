import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { scratchDir } from '../scratch';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pollUntil } from '../../harness/deadlines';
import { packageRoot } from '../../harness/paths';
import { findLeftovers, zombiePids } from '../../soak/leftovers';

/**
 * Jest itself, run on fixtures/kill-scenarios (two test files, each holding a session open on a
 * server with a process per session), then: let it pass, let it fail, Ctrl-C it (SIGINT to its
 * process group, as a terminal does), SIGKILL its main process. Afterwards nothing that run started
 * may be left: no process carrying its marker, no new zombie.
 */
const root = packageRoot();
const MARKER = 'SM_KILL_SCENARIO';

interface InnerRun {
  marker: string;
  exit: Promise<number | null>;
  pid: number;
  ready: string;
  output: () => string;
}

function runInnerJest(scenario: 'pass' | 'fail' | 'hang'): InnerRun {
  const marker = randomBytes(6).toString('hex');
  const dir = scratchDir('sm-kill');
  const ready = join(dir, 'ready');
  // A cache of its own: with timings of earlier fast runs Jest would run both files in band, one
  // after the other, and the first one's endless wait would keep the second from ever starting.
  const jestArgs = ['--config', join(root, 'fixtures', 'kill-scenarios', 'jest.config.js'), '--cacheDirectory', join(dir, 'jest-cache')];
  const child = spawn(process.execPath, [join(root, 'node_modules', 'jest', 'bin', 'jest.js'), ...jestArgs], {
    cwd: root,
    env: { ...process.env, [MARKER]: marker, SM_SCENARIO: scenario, SM_SCENARIO_READY: ready, NO_COLOR: '1' },
    // its own process group, so "Ctrl-C" can go to Jest's whole group and nowhere else
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  return { marker, exit, pid: child.pid as number, ready, output: () => output };
}

async function expectNothingLeft(run: InnerRun, zombiesBefore: Set<number>): Promise<void> {
  const left = await findLeftovers(MARKER, run.marker, zombiesBefore, 15_000);
  expect(left.marked.map((p) => `${p.pid} ${p.comm}`)).toEqual([]);
  expect(left.newZombies.map((p) => `${p.pid} ${p.comm} (parent ${p.ppid})`)).toEqual([]);
}

async function waitUntilServing(run: InnerRun): Promise<void> {
  const both = () => existsSync(`${run.ready}.fork`) && existsSync(`${run.ready}.prefork`);
  if (!(await pollUntil(both, 120_000, 50))) throw new Error(`the inner Jest run never got its servers going:\n${run.output().slice(-2000)}`);
}

describe('kill scenarios: nothing is left behind', () => {
  test('after a passing run', async () => {
    const zombies = zombiePids();
    const run = runInnerJest('pass');
    expect(await run.exit).toBe(0);
    await expectNothingLeft(run, zombies);
  });

  test('after a failing run', async () => {
    const zombies = zombiePids();
    const run = runInnerJest('fail');
    expect(await run.exit).toBe(1);
    expect(run.output()).toMatch(/a failing assertion/);
    await expectNothingLeft(run, zombies);
  });

  test('after SIGINT to Jest (Ctrl-C) while its tests hold sessions open', async () => {
    const zombies = zombiePids();
    const run = runInnerJest('hang');
    await waitUntilServing(run);
    process.kill(-run.pid, 'SIGINT');
    await run.exit;
    await expectNothingLeft(run, zombies);
  });

  test("after SIGKILL of Jest's main process while its tests hold sessions open", async () => {
    const zombies = zombiePids();
    const run = runInnerJest('hang');
    await waitUntilServing(run);
    process.kill(run.pid, 'SIGKILL');
    await run.exit;
    // Jest's workers outlive their main process; the kit's watchdog ends them along with the servers.
    await expectNothingLeft(run, zombies);
  });
});
