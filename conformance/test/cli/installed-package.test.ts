import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pollUntil } from '../../harness/deadlines';
import { onPath } from '../../harness/listen-backlog';
import { packageRoot } from '../../harness/paths';
import { pidExists } from '../../harness/procfs';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * What a user gets from `npm install server-models`: the packed tarball installed into a fresh
 * project (dependencies from npm's cache), and `npx server-models` run there.
 */
describe('server-models installed into another project', () => {
  const project = mkdtempSync(join(tmpdir(), 'sm-user-project-'));
  // The user's own cache: the C servers are built there on first use.
  const env = { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: join(project, 'cache') };
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  beforeAll(async () => {
    const { stdout: packed } = await run(npm, ['pack', '--ignore-scripts', '--silent', '--pack-destination', project, packageRoot()], { cwd: project });
    const tarball = join(project, packed.trim().split('\n').pop() as string);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true }));
    await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', tarball], { cwd: project });
  });

  test('npx server-models list, and check of the packaged TypeScript event loop, work there', async () => {
    const list = await run('npx', ['--no-install', 'server-models', 'list', 'models'], { cwd: project });
    expect(list.stdout).toMatch(/^ {2}event-loop +one thread/m);

    const server = join(project, 'node_modules', 'server-models', 'dist', 'servers', 'ts', 'event-loop.js');
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(server)} --port {port} --delay-ms {delayMs}`;
    const check = await run('npx', ['--no-install', 'server-models', 'check', '--cmd', cmd, '--model', 'event-loop', '--delay-ms', '100', '--only', 'protocol.ack.*'], {
      cwd: project,
      env,
    });
    expect(check.stdout).toMatch(/^PASS {2}protocol\.ack\.single/m);
    expect(check.stdout).toMatch(/^PASS {2}protocol\.ack\.after-delay/m);
    expect(check.stdout).toMatch(/3 passed, 0 failed/);
  });

  test('the C servers are built on first use into the user\'s cache: matrix and serve --lang c work there', async () => {
    if (!onPath('make') || !(onPath('cc') || onPath('gcc'))) return; // nothing to build with: matrix says so
    const matrix = await run('npx', ['--no-install', 'server-models', 'matrix', '--lang', 'c', '--only', 'protocol.ack.single', '--delay-ms', '100'], { cwd: project, env });
    for (const model of ['single-process', 'prefork', 'thread-pool', 'event-loop', 'fork-per-connection', 'master-worker']) {
      expect(matrix.stdout).toMatch(new RegExp(`^c/${model} +1/1`, 'm'));
    }
    const served = spawn('npx', ['--no-install', 'server-models', 'serve', 'prefork', '--lang', 'c', '--port', '0', '--delay-ms', '0'], { cwd: project, env, detached: true });
    let out = '';
    served.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise((resolve) => served.on('exit', resolve));
    try {
      expect(await pollUntil(() => /listening on/.test(out), 10_000)).toBe(true);
    } finally {
      process.kill(-(served.pid as number), 'SIGTERM'); // npx, serve and the C prefork with its workers
    }
    await exited;
    expect(await pollUntil(() => !pidExists(-(served.pid as number)), 10_000)).toBe(true); // the whole group gone
  });

  test('the Jest API works there: describeConformance from the installed package', async () => {
    const server = join(project, 'node_modules', 'server-models', 'dist', 'servers', 'ts', 'event-loop.js');
    writeFileSync(join(project, 'server.test.js'), [
      "const { describeConformance } = require('server-models');",
      `describeConformance({ name: 'my server', cmd: ${JSON.stringify(`${JSON.stringify(process.execPath)} ${JSON.stringify(server)} --port {port} --delay-ms {delayMs}`)}, model: 'event-loop', delayMs: 100 },`,
      "  { only: ['protocol.ack.single', 'close.goodbye.fin'] });",
      '',
    ].join('\n'));
    const jest = join(packageRoot(), 'node_modules', 'jest', 'bin', 'jest.js');
    const result = await run(process.execPath, [jest, '--rootDir', project, '--transform', '{}', '--ci', 'server.test.js'], { cwd: project, env });
    expect(`${result.stdout}${result.stderr}`).toMatch(/Tests: +2 passed, 2 total/);
  });
});
