import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machineLockDir } from '../../harness/machine-lock';
import { referenceCommand } from '../../reference';
import { cli, cliWith, leftBehindBy } from './run-cli';
import { fixtureCommand } from '../harness/launch-fixtures';
import { mutantCommand, mutants } from '../../../fixtures/mutants/catalogue';
import { scratchDir } from '../scratch';

const noStackTrace = (text: string) => expect(text).not.toMatch(/\n\s+at /);

describe('server-models check: usage errors exit 2 with one clear line', () => {
  test('an unknown flag', async () => {
    const r = await cli('check', '--cmd', 'x', '--model', 'prefork', '--bogus');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--bogus/);
    noStackTrace(r.stderr);
  });
  test('a missing --model, an unknown model, a bad number', async () => {
    for (const args of [['--cmd', 'x'], ['--cmd', 'x', '--model', 'fibers'], ['--cmd', 'x', '--model', 'prefork', '--workers', 'five']]) {
      const r = await cli('check', ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^server-models: .*(model|workers)/);
      noStackTrace(r.stderr);
    }
  });
  test('an unknown command', async () => {
    const r = await cli('chek');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "chek"/);
  });
});

describe('server-models check: target errors exit 2 and leave nothing running', () => {
  test('a server that exits at start', async () => {
    const r = await cli('check', '--cmd', fixtureCommand('exits-at-once', '{port}'), '--model', 'event-loop');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/target error: .*exited with code 3 before listening/);
    expect(r.stderr).toMatch(/cannot open config file/);
    noStackTrace(r.stderr);
    expect(leftBehindBy(r.pid)).toEqual([]);
  });
  test('a server that never listens', async () => {
    const r = await cli('check', '--cmd', fixtureCommand('never-listens', '{port}'), '--model', 'event-loop', '--timeout-multiplier', '0.2');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/did not listen on 127\.0\.0\.1:\d+ within 2000 ms/);
    expect(leftBehindBy(r.pid)).toEqual([]);
  });
});

describe('server-models check: results', () => {
  test('a conforming server: exit 0, one line per case, JSON with id and outcome, --timings', async () => {
    const json = join(scratchDir('sm-check'), 'report.json');
    const r = await cli('check', '--cmd', referenceCommand('event-loop', 'ts'), '--model', 'event-loop', '--delay-ms', '100', '--only', 'protocol.*', '--json', json, '--timings');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS {2}protocol\.ack\.single /m);
    // 11 protocol cases on 4 servers: after-delay on its own (it may run at another delay), the other ten in chains of 4, 4 and 2
    expect(r.stdout).toMatch(/^timings .+: [\d.]+ s wall with \d+ jobs; [\d.]+ s inside cases; launch [\d.]+ s \+ stop [\d.]+ s \(4 servers, \d+ ms each\); [\d.]+ s waiting for the machine lock\n {2}slowest: protocol\.[a-z.-]+( \(\+\d sharing its server\))? [\d.]+ s, /m);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { cases: { id: string; outcome: string }[] };
    expect(report.cases.length).toBeGreaterThan(5);
    expect(report.cases.every((c) => c.id.startsWith('protocol.') && c.outcome === 'pass')).toBe(true);
    expect(leftBehindBy(r.pid)).toEqual([]);
  });
  test('a server on a Unix socket ({socket}): the close cases pass, and no socket file or directory is left behind', async () => {
    // The kit makes each {socket} directory under TMPDIR: a private one here, so that what is left there is this run's.
    const tmp = scratchDir('sm-check-unix');
    const cmd = referenceCommand('event-loop', 'ts', 'unix');
    expect(cmd).toMatch(/ --unix \{socket\} --delay-ms \{delayMs\}$/);
    const r = await cliWith({ TMPDIR: tmp, SM_LOCK_DIR: machineLockDir() }, 'check', '--cmd', cmd, '--model', 'event-loop', '--delay-ms', '100', '--only', 'close.*');
    expect(r.stdout).toMatch(/^PASS {2}close\.goodbye\.fin /m);
    expect(r.stdout).toMatch(/^7 passed, 0 failed/m);
    expect(r.code).toBe(0);
    expect(readdirSync(tmp)).toEqual([]);
    expect(leftBehindBy(r.pid)).toEqual([]);
  });
  test('a broken server: exit 1, the failing case with expected, actual and evidence', async () => {
    const mutant = mutants.find((m) => m.name === 'goodbye-prefix');
    const r = await cli('check', '--cmd', mutantCommand(mutant!), '--model', 'event-loop', '--delay-ms', '100', '--only', 'protocol.goodbye.*');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^FAIL {2}protocol\.goodbye\.exact-match/m);
    expect(r.stdout).toMatch(/expected: .*"ackackackack"/);
    expect(r.stdout).toMatch(/closeKind: fin/);
    expect(leftBehindBy(r.pid)).toEqual([]);
  });
});

describe('server-models check: manifests, expected failures, strictness, reports', () => {
  const dir = scratchDir('sm-check');
  const goodbyePrefix = mutants.find((m) => m.name === 'goodbye-prefix')!;

  test('a manifest with two targets: each is checked; JUnit and HTML name both; exit 1 for the broken one', async () => {
    const manifest = join(dir, 'targets.json');
    writeFileSync(manifest, JSON.stringify({
      targets: [
        { name: 'good', cmd: referenceCommand('event-loop', 'ts'), model: 'event-loop', delayMs: 100 },
        { name: 'prefix-bug', cmd: mutantCommand(goodbyePrefix), model: 'event-loop', delayMs: 100 },
      ],
    }));
    const junit = join(dir, 'out', 'junit.xml');
    const html = join(dir, 'out', 'report.html');
    const r = await cli('check', '--manifest', manifest, '--only', 'protocol.goodbye.*', '--junit', junit, '--html', html);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/check \[1\/2\]: good — event-loop/);
    expect(r.stdout).toMatch(/check \[2\/2\]: prefix-bug — event-loop/);
    expect(r.stdout).toMatch(/^FAIL {2}protocol\.goodbye\.exact-match/m);
    expect(readFileSync(junit, 'utf8')).toMatch(/<testsuite name="good"[\s\S]*<testsuite name="prefix-bug"[\s\S]*<failure /);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('prefix-bug');
    expect(page).toContain('good');
    expect(leftBehindBy(r.pid)).toEqual([]);
  });

  test('a bad manifest: exit 2, the file and the field named', async () => {
    const manifest = join(dir, 'bad.json');
    writeFileSync(manifest, JSON.stringify({ targets: [{ cmd: 'x', model: 'prefork', workers: 'five' }] }));
    const r = await cli('check', '--manifest', manifest);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.json: targets\[0\]\.workers must be a positive integer, got "five"/);
    noStackTrace(r.stderr);
  });

  test('--expect-fail: a listed failure is XFAIL and exit 0; a listed pass is XPASS', async () => {
    const xfail = join(dir, 'xfail.txt');
    writeFileSync(xfail, '# goodbye is matched by prefix in this build\nprotocol.goodbye.exact-match\nprotocol.goodbye.no-ack\n');
    const r = await cli('check', '--cmd', mutantCommand(goodbyePrefix), '--model', 'event-loop', '--delay-ms', '100', '--only', 'protocol.goodbye.*', '--expect-fail', xfail);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^XFAIL protocol\.goodbye\.exact-match/m);
    expect(r.stdout).toMatch(/^XPASS protocol\.goodbye\.no-ack .*listed in --expect-fail, but passed/m);
    expect(r.stdout).toMatch(/\(1 expected\)/);
  });

  test('--strict: a SHOULD failure fails the run', async () => {
    // This mutant listens with a backlog of 1: concurrency.backlog (SHOULD) is its failure, found in a second.
    const backlog1 = mutants.find((m) => m.name === 'listen-backlog-1' && m.lang === 'c')!;
    const args = ['check', '--cmd', mutantCommand(backlog1), '--model', backlog1.model, '--delay-ms', '100', '--only', 'concurrency.backlog'];
    const lenient = await cli(...args);
    expect(lenient.stdout).toMatch(/^WARN {2}concurrency\.backlog/m);
    expect(lenient.code).toBe(0);
    const strict = await cli(...args, '--strict');
    expect(strict.stdout).toMatch(/^FAIL {2}concurrency\.backlog/m);
    expect(strict.code).toBe(1);
  });
});
