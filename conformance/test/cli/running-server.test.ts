import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeDeadlines } from '../../harness/deadlines';
import { launchTarget, LaunchedTarget, stopAllTargets } from '../../harness/launcher';
import { resolveTarget } from '../../harness/target';
import { ModelName } from '../../harness/models';
import { packageRoot } from '../../harness/paths';
import { referenceCommand } from '../../reference';
import { mutantCommand, mutants } from '../../../fixtures/mutants/catalogue';
import { cli, leftBehindBy } from './run-cli';
import { scratchDir } from '../scratch';

/** Checks of servers the kit did not start: this file starts them (and stops them after), the CLI only attaches. */
const DELAY_MS = 100;
const CASES = ['--only', 'protocol.ack.*', '--only', 'close.*', '--only', 'concurrency.timing', '--only', 'resources.fds', '--only', 'lifecycle.*'];

async function startServer(cmd: string, model: ModelName): Promise<LaunchedTarget> {
  return launchTarget(resolveTarget({ name: model, cmd, model, delayMs: DELAY_MS }), makeDeadlines(DELAY_MS, 1));
}

type Outcomes = Record<string, string>;
function outcomesIn(file: string): Outcomes {
  const report = JSON.parse(readFileSync(file, 'utf8')) as { cases: { id: string; outcome: string; message?: string }[] };
  return Object.fromEntries(report.cases.map((c) => [c.id, c.outcome]));
}

afterAll(() => stopAllTargets());

describe('server-models check of a server already running (--host/--port without --cmd)', () => {
  const dir = scratchDir('sm-running');
  let server: LaunchedTarget;
  let started: Outcomes;
  beforeAll(async () => {
    server = await startServer(referenceCommand('event-loop', 'c'), 'event-loop');
    const json = join(dir, 'started.json');
    const r = await cli('check', '--cmd', referenceCommand('event-loop', 'c'), '--model', 'event-loop', '--delay-ms', String(DELAY_MS), ...CASES, '--json', json);
    expect(r.code).toBe(0);
    started = outcomesIn(json);
  });

  test('the cases that run give the verdicts of a server the kit starts; the others are skipped with the reason', async () => {
    const json = join(dir, 'running.json');
    const r = await cli('check', '--host', '127.0.0.1', '--port', String(server.port), '--model', 'event-loop', '--delay-ms', String(DELAY_MS), ...CASES, '--json', json);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^server-models check: 127\.0\.0\.1:\d+ — event-loop/m);
    expect(r.stdout).toMatch(/^SKIP {2}lifecycle\.sigterm\.exits .*needs a server the kit starts \(it stops the server with SIGTERM\)/m);
    expect(r.stdout).toMatch(/^SKIP {2}lifecycle\.ready .*needs a server the kit starts \(it times the server's start\)/m);
    expect(r.stdout).toMatch(/^SKIP {2}resources\.fds .*give the pid of a server already running \(--pid\)/m);
    const running = outcomesIn(json);
    const ran = Object.keys(running).filter((id) => running[id] !== 'skip');
    expect(ran).toEqual(expect.arrayContaining(['protocol.ack.single', 'close.goodbye.fin', 'close.eof.full-close', 'concurrency.timing']));
    for (const id of ran) expect(`${id}: ${running[id]}`).toBe(`${id}: ${started[id]}`);
    // The kit never stops a server it did not start.
    expect(server.serverAlive()).toBe(true);
    expect(leftBehindBy(r.pid)).toEqual([]);
  });

  test('--pid brings back the cases that watch its processes, with the same verdicts', async () => {
    const json = join(dir, 'with-pid.json');
    const r = await cli('check', '--port', String(server.port), '--pid', String(server.serverPid), '--model', 'event-loop', '--delay-ms', String(DELAY_MS),
      '--only', 'resources.fds', '--only', 'lifecycle.ready', '--json', json);
    expect(r.code).toBe(0);
    const withPid = outcomesIn(json);
    expect(withPid['resources.fds']).toBe(started['resources.fds']);
    expect(withPid['resources.fds']).toBe('pass');
    expect(withPid['lifecycle.ready']).toBe('skip');
    expect(server.serverAlive()).toBe(true);
  });

  test('a wrong address or pid is a target error (exit 2, one line)', async () => {
    const nobody = await cli('check', '--port', '1', '--model', 'event-loop');
    expect(nobody.code).toBe(2);
    expect(nobody.stderr).toMatch(/^server-models: target error: nothing accepts connections at 127\.0\.0\.1:1 /);
    const notThere = await cli('check', '--port', String(server.port), '--pid', '999999999', '--model', 'event-loop');
    expect(notThere.code).toBe(2);
    expect(notThere.stderr).toMatch(/no process 999999999 on this machine/);
    // pid 1 is an ancestor of everything, the kit included: its tree holds the listener, but is not the server.
    const init = await cli('check', '--port', String(server.port), '--pid', '1', '--model', 'event-loop');
    expect(init.code).toBe(2);
    expect(init.stderr).toMatch(/process 1 is an ancestor of this kit, not the server/);
    const both = await cli('check', '--cmd', 'x', '--pid', '5', '--model', 'event-loop');
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--pid names a server already running/);
  });
});

describe('a running server on a Unix socket (--unix without --cmd)', () => {
  test('is checked over its path, with its processes given --pid', async () => {
    const path = join(scratchDir('sm-running-unix'), 'server.sock');
    const server = await launchTarget(resolveTarget({ name: 'c/event-loop', cmd: referenceCommand('event-loop', 'c').replace('--port {port}', `--unix ${path}`), model: 'event-loop', delayMs: DELAY_MS, unix: path }), makeDeadlines(DELAY_MS, 1));
    const r = await cli('check', '--unix', path, '--pid', String(server.serverPid), '--model', 'event-loop', '--delay-ms', String(DELAY_MS),
      '--only', 'protocol.ack.single', '--only', 'close.goodbye.fin', '--only', 'resources.fds', '--only', 'lifecycle.ready');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^server-models check: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} — event-loop`, 'm'));
    expect(r.stdout).toMatch(/^PASS {2}close\.goodbye\.fin /m);
    expect(r.stdout).toMatch(/^PASS {2}resources\.fds /m);
    expect(r.stdout).toMatch(/^SKIP {2}lifecycle\.ready .*needs a server the kit starts/m);
    expect(server.serverAlive()).toBe(true);
  });
});

describe('a running server behind on its work', () => {
  test('after a case it did not pass, the next case waits until it has worked off that case\'s clients', async () => {
    // An asyncio loop whose work blocks the loop (serial service, in the order messages arrive; a lock
    // of threads would not be fair to the kit's probe): concurrency.limit leaves it 64 messages behind.
    const stranger = join(packageRoot(), 'fixtures', 'strangers', 'asyncio_blocking.py');
    const server = await startServer(`python3 ${stranger} --port {port} --delay-ms {delayMs}`, 'event-loop');
    const r = await cli('check', '--port', String(server.port), '--model', 'event-loop', '--delay-ms', String(DELAY_MS),
      '--only', 'concurrency.limit', '--only', 'robustness.non-ascii');
    expect(r.stdout).toMatch(/^FAIL {2}concurrency\.limit [^]*?sentAtOnce: 65/m);
    expect(r.stdout).toMatch(/^PASS {2}robustness\.non-ascii /m);
  });
});

describe('a running server that dies mid-run', () => {
  test('the case that killed it fails; the cases after it are blocked, not failed', async () => {
    // This mutant dies of SIGPIPE when a client leaves before its acks (close.leave-before-ack.server-survives).
    const mutant = mutants.find((m) => m.name === 'dies-of-sigpipe' && m.lang === 'c')!;
    const server = await startServer(mutantCommand(mutant), 'single-process');
    const r = await cli('check', '--port', String(server.port), '--model', 'single-process', '--delay-ms', String(DELAY_MS),
      '--only', 'protocol.ack.single', '--only', 'close.leave-before-ack.server-survives', '--only', 'concurrency.timing', '--only', 'robustness.non-ascii');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^PASS {2}protocol\.ack\.single /m);
    expect(r.stdout).toMatch(/^FAIL {2}close\.leave-before-ack\.server-survives /m);
    expect(r.stdout).toMatch(/^BLOCK concurrency\.timing .*\n.*the server stopped answering after close\.leave-before-ack\.server-survives/m);
    expect(r.stdout).toMatch(/^BLOCK robustness\.non-ascii /m);
  });
});
