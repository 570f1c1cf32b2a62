import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil } from '../../harness/deadlines';
import { readUnixListeners } from '../../harness/procfs';
import { scratchDir } from '../scratch';
import { builtReferenceServers, serverArgv } from './reference-servers';

// What a reference server does with the file at its --unix path: a stale socket is replaced, anything
// else is refused, and the socket file goes when the server exits on SIGTERM.

/** A socket file whose server was killed: nothing listens on it any more. */
function staleSocket(path: string): void {
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  expect(lstatSync(path).isSocket()).toBe(true);
}

describe.each(builtReferenceServers)('$name --unix PATH', (s) => {
  const dir = scratchDir('sm-unix-file');

  test('replaces a stale socket file, listens there, and removes the file when it exits on SIGTERM', async () => {
    const path = join(dir, `${s.model}.sock`);
    staleSocket(path);
    const [file, args] = serverArgv(s, '--unix', path, '--delay-ms', '0', '--workers', '2');
    const server = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      let exitCode: number | null | undefined;
      server.stdout.on('data', (d) => (out += d));
      server.on('exit', (code) => (exitCode = code));
      expect(await pollUntil(() => out.includes(`listening on unix:${path}\n`), 10_000)).toBe(true);
      expect([...readUnixListeners().values()]).toContain(path);
      server.kill('SIGTERM');
      expect(await pollUntil(() => exitCode !== undefined, 10_000)).toBe(true);
      expect(exitCode).toBe(0);
      expect(existsSync(path)).toBe(false);
    } finally {
      server.kill('SIGKILL');
    }
  });

  test('refuses a path that is not a socket (exit 1, the file left alone), and --unix with --port (exit 2)', () => {
    const path = join(dir, `${s.model}.txt`);
    writeFileSync(path, 'not a socket');
    const refused = spawnSync(...serverArgv(s, '--unix', path), { encoding: 'utf8', timeout: 10_000 });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`cannot listen on unix:${path}: it exists and is not a socket`));
    expect(lstatSync(path).isFile()).toBe(true);
    const both = spawnSync(...serverArgv(s, '--unix', path, '--port', '4000'), { encoding: 'utf8', timeout: 10_000 });
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/--unix cannot be combined with '?--port/);
  });
});
