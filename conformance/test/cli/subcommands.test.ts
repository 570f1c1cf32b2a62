import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pollUntil } from '../../harness/deadlines';
import { listProcesses, readUnixListeners } from '../../harness/procfs';
import { allCases } from '../../cases';
import { packageRoot } from '../../harness/paths';
import { MODELS, REFERENCE_MODELS } from '../../harness/models';
import { referenceServerPath } from '../../reference';
import { existsSync, readFileSync } from 'node:fs';
import { cli, leftBehindBy } from './run-cli';
import { scratchDir } from '../scratch';

const bin = `${JSON.stringify(process.execPath)} ${JSON.stringify(join(packageRoot(), 'bin', 'server-models.js'))}`;

describe('--help on every subcommand', () => {
  test.each(['check', 'matrix', 'merge-reports', 'serve', 'client', 'list', 'bench'])('server-models %s --help: usage, exit 0', async (command) => {
    const r = await cli(command, '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: server-models ${command}`));
    expect(r.stderr).toBe('');
  });
  test('server-models --help lists every subcommand', async () => {
    const r = await cli('--help');
    expect(r.code).toBe(0);
    for (const command of ['check', 'matrix', 'merge-reports', 'serve', 'client', 'list', 'bench']) expect(r.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
  });
});

describe('server-models list', () => {
  test('every model and every case id, with its level and description', async () => {
    const r = await cli('list');
    expect(r.code).toBe(0);
    for (const m of MODELS) expect(r.stdout).toMatch(new RegExp(`^ {2}${m} +\\S`, 'm'));
    for (const c of allCases) expect(r.stdout).toContain(`${c.id.padEnd(40)}${c.level.padEnd(8)}${c.title}`);
  });
  test('--json: cases with id, level, title and the models they apply to', async () => {
    const r = await cli('list', 'cases', '--json');
    const json = JSON.parse(r.stdout) as { cases: { id: string; level: string; models: string[] }[] };
    expect(json.cases.map((c) => c.id)).toEqual(allCases.map((c) => c.id));
    expect(json.cases.find((c) => c.id === 'lifecycle.worker-respawn')?.models).toEqual(['prefork', 'master-worker']);
  });
});

describe('server-models matrix', () => {
  test('every TypeScript reference server, one case: the matrix, and an HTML report naming each', async () => {
    const html = join(scratchDir('sm-matrix'), 'matrix.html');
    const r = await cli('matrix', '--lang', 'ts', '--only', 'protocol.ack.single', '--html', html);
    expect(r.code).toBe(0);
    const page = readFileSync(html, 'utf8');
    for (const model of REFERENCE_MODELS) {
      expect(r.stdout).toMatch(new RegExp(`^ts/${model} +1/1 `, 'm'));
      expect(page).toContain(`data-implementation="ts/${model}"`);
    }
    expect(r.stdout).toMatch(/6 implementations checked .* 0 with a failing MUST case/);
  });
});

describe('server-models serve', () => {
  // The C server exists where a C compiler did (as in the reference suite, it is not required).
  const langs = (['ts', 'c'] as const).filter((lang) => lang === 'ts' || existsSync(referenceServerPath('event-loop', lang)));
  test.each(langs)('serve event-loop --lang %s is a conforming server that drains on SIGTERM', async (lang) => {
    const cmd = `${bin} serve event-loop --lang ${lang} --port {port} --delay-ms {delayMs}`;
    const r = await cli('check', '--cmd', cmd, '--model', 'event-loop', '--delay-ms', '100', '--only', 'protocol.ack.*', '--only', 'lifecycle.sigterm', '--strict');
    expect(r.stdout).toMatch(/^PASS {2}protocol\.ack\.lockstep/m);
    expect(r.stdout).toMatch(/^PASS {2}lifecycle\.sigterm/m);
    expect(r.code).toBe(0);
    expect(leftBehindBy(r.pid)).toEqual([]);
  });
  test.each(['SIGINT', 'SIGTERM'] as const)('%s to serve alone stops the server it runs, exit 0', async (sig) => {
    const serve = spawn(process.execPath, [join(packageRoot(), 'bin', 'server-models.js'), 'serve', 'event-loop', '--port', '0', '--delay-ms', '0'], {
      detached: true, // its own group: the signal goes to serve alone, and cleanup can take the group
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      serve.stdout.on('data', (d) => (out += d));
      expect(await pollUntil(() => out.includes('listening on'), 10_000)).toBe(true);
      const server = listProcesses().find((p) => p.ppid === serve.pid);
      expect(server).toBeDefined();
      const exited = new Promise<number | null>((resolve) => serve.on('exit', (code) => resolve(code)));
      serve.kill(sig);
      expect(await exited).toBe(0);
      expect(await pollUntil(() => !listProcesses().some((p) => p.pid === server?.pid && p.state !== 'Z'), 5000)).toBe(true);
    } finally {
      try {
        process.kill(-(serve.pid as number), 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
  });

  test.each(langs)('serve event-loop --lang %s --unix PATH listens on that path; the server removes it when it exits on SIGTERM', async (lang) => {
    const path = join(scratchDir('sm-serve-unix'), 'serve.sock');
    const serve = spawn(process.execPath, [join(packageRoot(), 'bin', 'server-models.js'), 'serve', 'event-loop', '--lang', lang, '--unix', path, '--delay-ms', '0'], {
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      let exitCode: number | null | undefined;
      serve.stdout.on('data', (d) => (out += d));
      serve.on('exit', (code) => (exitCode = code));
      expect(await pollUntil(() => out.includes(`listening on unix:${path}`), 10_000)).toBe(true);
      expect([...readUnixListeners().values()]).toContain(path);
      // The signal goes to the server itself, as a process manager would send it; serve exits with it.
      const server = listProcesses().find((p) => p.ppid === serve.pid);
      process.kill(server?.pid as number, 'SIGTERM');
      expect(await pollUntil(() => exitCode !== undefined, 10_000)).toBe(true);
      expect(exitCode).toBe(0);
      expect(existsSync(path)).toBe(false);
    } finally {
      try {
        process.kill(-(serve.pid as number), 'SIGKILL');
      } catch {
        // already gone, as it should be
      }
    }
  });

  test('a model without a reference server, or none: exit 2 with one line', async () => {
    for (const args of [['serve'], ['serve', 'thread-per-connection'], ['serve', 'prefork', '--lang', 'go']]) {
      const r = await cli(...args);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('server-models client: usage errors', () => {
  test('no --port, or nobody listening: exit 2 with one line', async () => {
    const missing = await cli('client');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--port/);
  });
});
