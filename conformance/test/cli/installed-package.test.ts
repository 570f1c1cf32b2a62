import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../harness/paths';

const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/**
 * What a user gets from `npm install server-models`: the packed tarball installed into a fresh
 * project (dependencies from npm's cache), and `npx server-models` run there.
 */
describe('server-models installed into another project', () => {
  const project = mkdtempSync(join(tmpdir(), 'sm-user-project-'));
  afterAll(() => rmSync(project, { recursive: true, force: true }));

  test('npx server-models list, and check of the packaged TypeScript event loop, work there', async () => {
    const { stdout: packed } = await run(npm, ['pack', '--ignore-scripts', '--silent', '--pack-destination', project, packageRoot()], { cwd: project });
    const tarball = join(project, packed.trim().split('\n').pop() as string);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true }));
    await run(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--silent', tarball], { cwd: project });

    const list = await run('npx', ['--no-install', 'server-models', 'list', 'models'], { cwd: project });
    expect(list.stdout).toMatch(/^ {2}event-loop +one thread/m);

    const server = join(project, 'node_modules', 'server-models', 'dist', 'servers', 'ts', 'event-loop.js');
    const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(server)} --port {port} --delay-ms {delayMs}`;
    const check = await run('npx', ['--no-install', 'server-models', 'check', '--cmd', cmd, '--model', 'event-loop', '--delay-ms', '100', '--only', 'protocol.ack.*'], {
      cwd: project,
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(check.stdout).toMatch(/^PASS {2}protocol\.ack\.single/m);
    expect(check.stdout).toMatch(/^PASS {2}protocol\.ack\.after-delay/m);
    expect(check.stdout).toMatch(/3 passed, 0 failed/);
  });
});
