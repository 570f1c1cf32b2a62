import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../harness/paths';
import { cli, leftBehindBy } from './run-cli';

/** Servers written the way people write them, in Python, C, Rust and Java, checked through the CLI as a user would. */
const dir = join(packageRoot(), 'fixtures', 'strangers');
const python = (file: string, extra = ''): string => `python3 ${JSON.stringify(join(dir, file))} --port {port} --delay-ms {delayMs}${extra}`;

/** A stranger's C server, compiled the way its author would (no -Werror: it is not our code). */
function compiled(file: string): string {
  const out = join(mkdtempSync(join(tmpdir(), 'sm-stranger-')), file.replace(/\.c$/, ''));
  execFileSync('cc', ['-O2', '-pthread', '-o', out, join(dir, file)], { stdio: 'pipe' });
  return out;
}

/** The tool answers `args` (it is installed). */
function installed(tool: string, args = ['--version']): boolean {
  try {
    execFileSync(tool, args, { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

/** A stranger's Rust server as its author runs it, `cargo run` (built first, offline: it uses only std). */
function cargoRun(crate: string): string | undefined {
  if (!installed('cargo')) return undefined; // no Rust toolchain here: the test says so and is skipped
  const manifest = join(dir, crate, 'Cargo.toml');
  const target = mkdtempSync(join(tmpdir(), 'sm-stranger-cargo-'));
  execFileSync('cargo', ['build', '--release', '--quiet', '--offline', '--manifest-path', manifest], { stdio: 'pipe', env: { ...process.env, CARGO_TARGET_DIR: target } });
  return `env CARGO_TARGET_DIR=${target} cargo run --release --quiet --offline --manifest-path ${JSON.stringify(manifest)} -- --port {port} --delay-ms {delayMs}`;
}

async function check(cmd: string, model: string, only: string[], extra: string[] = []) {
  const run = await cli('check', '--cmd', cmd, '--model', model, '--delay-ms', '200', ...only.flatMap((id) => ['--only', id]), ...extra);
  expect(leftBehindBy(run.pid)).toEqual([]);
  return run;
}

// Side by side (Jest's maxConcurrency): each check mostly waits on its server's delays.
describe('strangers\' servers, through the CLI', () => {
  test.concurrent('an asyncio server is served at the same time', async () => {
    const run = await check(python('asyncio_ok.py'), 'event-loop', ['concurrency.limit', 'concurrency.timing']);
    expect(run.stdout).toMatch(/PASS\s+concurrency\.limit\s.*measured limit ≥ 65/);
    expect(run.code).toBe(0);
  });

  test.concurrent('an asyncio server that calls time.sleep() in its coroutine serves 1 at a time', async () => {
    const run = await check(python('asyncio_blocking.py'), 'event-loop', ['concurrency.limit', 'concurrency.timing']);
    // about one 200 ms delay apart, as the kit reads them: a sleep of 200 ms can show as 199 ms between arrivals
    expect(run.stdout).toMatch(/FAIL\s+concurrency\.limit[\s\S]*actual:\s+served 1 at a time: acks (19\d|2\d\d) ms apart/);
    expect(run.stdout).toMatch(/FAIL\s+concurrency\.timing/);
    expect(run.code).toBe(1);
  });

  test.concurrent('a selectors loop that writes acks with a blocking sendall() stalls for everyone once a client stops reading, and spins when out of descriptors', async () => {
    const run = await check(python('selectors_blocking_send.py'), 'event-loop', ['robustness.slow-reader', 'resources.fd-exhaustion', 'concurrency.limit']);
    expect(run.stdout).toMatch(/WARN\s+robustness\.slow-reader[\s\S]*expected: the other client acked within \d+ ms while the server held the flooder/);
    expect(run.stdout).toMatch(/FAIL\s+resources\.fd-exhaustion[\s\S]*the server spins/);
    expect(run.stdout).toMatch(/PASS\s+concurrency\.limit\s/);
    expect(run.code).toBe(1);
  });

  test.concurrent('a fork server with a SIGCHLD reaper: no zombie, no leak, and its forks out of descriptors are not spinning', async () => {
    const run = await check(python('fork_reaper.py'), 'fork-per-connection', ['resources.zombies', 'resources.children', 'resources.fd-exhaustion', 'concurrency.limit']);
    for (const id of ['resources.zombies', 'resources.children', 'resources.fd-exhaustion', 'concurrency.limit']) expect(run.stdout).toMatch(new RegExp(`PASS\\s+${id.replace('.', '\\.')}\\s`));
    expect(run.code).toBe(0);
  });

  test.concurrent('threads behind one lock serve 1 at a time', async () => {
    const run = await check(python('threads_global_lock.py'), 'thread-per-connection', ['concurrency.limit']);
    expect(run.stdout).toMatch(/FAIL\s+concurrency\.limit[\s\S]*actual:\s+served 1 at a time/);
    expect(run.code).toBe(1);
  });

  test.concurrent('a Python prefork started by a shell wrapper without exec: its workers are counted and signalled under the shell', async () => {
    const cmd = `${JSON.stringify(join(dir, 'start-prefork.sh'))} --port {port} --delay-ms {delayMs} --workers {workers}`;
    const run = await check(cmd, 'prefork', ['resources.children', 'lifecycle.sigterm.exits', 'lifecycle.sigterm', 'lifecycle.worker-respawn', 'concurrency.limit'], ['--workers', '5', '--strict']);
    expect(run.stdout).toMatch(/PASS\s+concurrency\.limit\s.*measured limit 5/);
    expect(run.stdout).toMatch(/PASS\s+resources\.children/);
    expect(run.stdout).toMatch(/PASS\s+lifecycle\.worker-respawn/);
    expect(run.code).toBe(0);
  });

  test.concurrent('the standard library\'s ThreadingTCPServer: a listen backlog of 5, and a spin when accept() runs out of descriptors', async () => {
    const run = await check(python('socketserver_threads.py'), 'thread-per-connection', ['concurrency.limit', 'concurrency.backlog', 'resources.fd-exhaustion', 'lifecycle.sigterm']);
    expect(run.stdout).toMatch(/PASS\s+concurrency\.limit\s/);
    expect(run.stdout).toMatch(/WARN\s+concurrency\.backlog[\s\S]*actual:\s+5\n/);
    expect(run.stdout).toMatch(/FAIL\s+resources\.fd-exhaustion[\s\S]*the server spins/);
    // killed with acks owed: fewer than the 3 (on a loaded machine the signal may follow the first ones)
    expect(run.stdout).toMatch(/WARN\s+lifecycle\.sigterm[\s\S]*acksOfTheSession: [0-2]\n/);
    expect(run.code).toBe(1);
  });

  test.concurrent('a Rust server started by cargo run: threads behind one Mutex serve 1 at a time, a panic under it poisons it, glibc\'s cache of stacks is no leak', async () => {
    const cmd = cargoRun('rust_threads');
    if (cmd === undefined) {
      console.warn('skipped: cargo is not installed');
      return;
    }
    const run = await check(cmd, 'thread-per-connection', ['concurrency.limit', 'robustness.non-ascii', 'resources.threads', 'resources.fd-exhaustion', 'lifecycle.sigterm']);
    expect(run.stdout).toMatch(/FAIL\s+concurrency\.limit[\s\S]*actual:\s+served 1 at a time/);
    expect(run.stdout).toMatch(/FAIL\s+robustness\.non-ascii[\s\S]*expected: a new client served by the same server process/);
    expect(run.stdout).toMatch(/PASS\s+resources\.threads\s.*within glibc's 40 MiB cache of freed stacks/);
    expect(run.stdout).toMatch(/FAIL\s+resources\.fd-exhaustion[\s\S]*the server spins/);
    // killed with acks owed: fewer than the 3 (on a loaded machine the signal may follow the first ones)
    expect(run.stdout).toMatch(/WARN\s+lifecycle\.sigterm[\s\S]*acksOfTheSession: [0-2]\n/);
    expect(run.code).toBe(1);
  });

  test.concurrent('a Java fixed thread pool run from its source: a backlog of 50, exit status 143 after a drained SIGTERM, and its lazily started pool threads are no leak', async () => {
    if (!installed('java', ['-version'])) {
      console.warn('skipped: java is not installed');
      return;
    }
    const cmd = `java ${JSON.stringify(join(dir, 'ExecutorServer.java'))} --port {port} --delay-ms {delayMs} --workers {workers}`;
    const run = await check(cmd, 'thread-pool', ['concurrency.limit', 'concurrency.backlog', 'resources.threads', 'lifecycle.sigterm'], ['--workers', '5']);
    expect(run.stdout).toMatch(/PASS\s+concurrency\.limit\s.*measured limit 5/);
    expect(run.stdout).toMatch(/WARN\s+concurrency\.backlog[\s\S]*actual:\s+50\n/);
    expect(run.stdout).toMatch(/PASS\s+resources\.threads\s/);
    expect(run.stdout).toMatch(/WARN\s+lifecycle\.sigterm[\s\S]*actual:\s+exit code 143[\s\S]*acksOfTheSession: 3\n/);
    expect(run.code).toBe(0);
  });

  test.concurrent('a Java cached thread pool keeps idle threads after a crowd: a cache, not a leak', async () => {
    if (!installed('java', ['-version'])) {
      console.warn('skipped: java is not installed');
      return;
    }
    const cmd = `java ${JSON.stringify(join(dir, 'ExecutorServer.java'))} --port {port} --delay-ms {delayMs}`;
    const run = await check(cmd, 'thread-per-connection', ['resources.threads', 'concurrency.limit']);
    expect(run.stdout).toMatch(/PASS\s+resources\.threads\s.*idle threads kept after the sessions, no more when \d+ of them ran again \(a cache\)/);
    expect(run.stdout).toMatch(/PASS\s+concurrency\.limit\s/);
    expect(run.code).toBe(0);
  });

  test.concurrent('threads that block for ever on a queue nobody drains, their sockets closed: only the thread count tells, and it grows', async () => {
    const run = await check(python('threads_stats_queue.py'), 'thread-per-connection', ['resources.threads', 'resources.fds']);
    expect(run.stdout).toMatch(/FAIL\s+resources\.threads[\s\S]*actual:\s+(\d+) after the sessions, (\d+) after \d+ of them ran again/);
    const [, first, again] = /actual:\s+(\d+) after the sessions, (\d+) after/.exec(run.stdout) ?? [];
    expect(Number(again)).toBeGreaterThan(Number(first));
    expect(run.stdout).toMatch(/PASS\s+resources\.fds\s/);
    expect(run.code).toBe(1);
  });

  test.concurrent('a C thread pool that leaks a log file per session: the leak is named as files, not sockets', async () => {
    const cmd = `${compiled('pool_log_leak.c')} --port {port} --delay-ms {delayMs} --workers {workers}`;
    const run = await check(cmd, 'thread-pool', ['resources.fds', 'resources.fd-exhaustion', 'concurrency.limit'], ['--workers', '5']);
    expect(run.stdout).toMatch(/FAIL\s+resources\.fds[\s\S]*actual:\s+\d+ held: \/dev\/null ×\d+ more than at rest/);
    expect(run.stdout).toMatch(/PASS\s+resources\.fd-exhaustion\s/);
    expect(run.stdout).toMatch(/PASS\s+concurrency\.limit\s.*measured limit 5/);
    expect(run.code).toBe(1);
  });
});
