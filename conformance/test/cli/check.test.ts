import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../harness/paths';
import { listProcesses } from '../../harness/procfs';
import { RUN_MARKER_ENV } from '../../harness/reaper';
import { referenceCommand } from '../../reference';
import { fixtureCommand } from '../harness/launch-fixtures';
import { mutantCommand, mutants } from '../../../fixtures/mutants/catalogue';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/** Runs the CLI as a user would (through bin/), with colour off. */
function cli(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'server-models.js'), ...args], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr, pid: child.pid as number }));
  });
}

/** Live processes that a CLI run with this pid started (its run marker begins with its pid). */
function leftBehindBy(cliPid: number): number[] {
  const prefix = `${RUN_MARKER_ENV}=${cliPid}-`;
  return listProcesses()
    .filter((p) => p.state !== 'Z')
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p.pid}/environ`, 'latin1').split('\0').some((kv) => kv.startsWith(prefix));
      } catch {
        return false;
      }
    })
    .map((p) => p.pid);
}

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
  test('a conforming server: exit 0, one line per case, JSON with id and outcome', async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'sm-check-')), 'report.json');
    const r = await cli('check', '--cmd', referenceCommand('event-loop', 'ts'), '--model', 'event-loop', '--delay-ms', '100', '--only', 'protocol.*', '--json', json);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^PASS {2}protocol\.ack\.single /m);
    const report = JSON.parse(readFileSync(json, 'utf8')) as { cases: { id: string; outcome: string }[] };
    expect(report.cases.length).toBeGreaterThan(5);
    expect(report.cases.every((c) => c.id.startsWith('protocol.') && c.outcome === 'pass')).toBe(true);
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
