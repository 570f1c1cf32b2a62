import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { createServer, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDeadlines, pollUntil } from '../../harness/deadlines';
import { readEphemeralRange } from '../../harness/free-port';
import { launchTarget, LaunchError, liveTargets, PORT_ATTEMPTS, stopAllTargets } from '../../harness/launcher';
import { listProcesses, pidsWithEnv, processTree } from '../../harness/procfs';
import { RUN_MARKER_ENV } from '../../harness/reaper';
import { resolveTarget } from '../../harness/target';
import { runMarker } from '../../harness/watchdog';
import { fixtureCommand } from './launch-fixtures';
import { referenceCommand } from '../../reference';
import { ProtocolClient } from '../../harness/client';
import { ConformanceCase } from '../../cases/types';
import { runCase } from '../../runner';
import { caseDefaults } from '../case-defaults';

const deadlines = makeDeadlines(0, 1);
const quick = { ...deadlines, ready: () => 1500 };
const target = (cmd: string) => resolveTarget({ name: 'fixture', cmd, model: 'event-loop', delayMs: 0 });
const alive = (pid: number) => listProcesses().some((p) => p.pid === pid && p.state !== 'Z');

const scratch = mkdtempSync(join(tmpdir(), 'sm-launcher-'));
/** The ports a port-taken fixture was started on, one line per start. */
const startsOf = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);

let held: Server;
/** A port this process listens on, so that a port-taken fixture can really fail with EADDRINUSE. */
let heldPort: string;

beforeAll(async () => {
  held = createServer();
  await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
  heldPort = String((held.address() as { port: number }).port);
});

afterAll(async () => {
  await stopAllTargets();
  await new Promise((resolve) => held.close(resolve));
  rmSync(scratch, { recursive: true, force: true });
});

describe('launchTarget', () => {
  test('detects readiness without connecting: a server that dies on any connection stays up', async () => {
    const server = await launchTarget(target(fixtureCommand('dies-on-connection', '{port}')), deadlines);
    expect(server.exitStatus()).toBeUndefined();
    expect(alive(server.pid)).toBe(true);
    await server.stop();
    expect(alive(server.pid)).toBe(false);
  });

  test('a command that exits before listening is a LaunchError carrying its stderr', async () => {
    const launching = launchTarget(target(fixtureCommand('exits-at-once', '{port}')), deadlines);
    await expect(launching).rejects.toThrow(LaunchError);
    await expect(launching).rejects.toThrow(/exited with code 3 before listening[\s\S]*cannot open config file/);
    expect(liveTargets()).toHaveLength(0);
  });

  test('a command that never listens is a LaunchError at the deadline, and is killed', async () => {
    const before = pidsWithEnv(RUN_MARKER_ENV, runMarker).length;
    await expect(launchTarget(target(fixtureCommand('never-listens', '{port}')), quick)).rejects.toThrow(/did not listen on 127\.0\.0\.1:\d+ within 1500 ms/);
    expect(pidsWithEnv(RUN_MARKER_ENV, runMarker).filter(alive)).toHaveLength(before);
  });

  test('a command that does not exist is a LaunchError', async () => {
    await expect(launchTarget(target('/nonexistent/server --port {port}'), quick)).rejects.toThrow(/cannot start|ENOENT/);
  });

  test('a daemon that left the process group and session is found by its marker and killed', async () => {
    const server = await launchTarget(target(fixtureCommand('daemonizes', '{port}')), deadlines);
    const members = server.memberPids();
    expect(members.length).toBeGreaterThan(0);
    const snapshot = listProcesses();
    expect(members.some((pid) => snapshot.find((p) => p.pid === pid)?.session !== server.pid)).toBe(true);
    await server.stop();
    expect(await pollUntil(() => members.every((pid) => !alive(pid)), 5000)).toBe(true);
  });

  test('a helper that left the tree, group and session after launch is found by the final sweep and killed', async () => {
    const server = await launchTarget(target(fixtureCommand('orphans-a-helper', '{port}')), deadlines);
    // The helper appears outside the followed tree: only the sweep of every process sees it.
    let helpers: number[] = [];
    expect(await pollUntil(() => (helpers = server.sweepPids().filter((pid) => !server.memberPids().includes(pid))).length > 0, 5000)).toBe(true);
    await server.stop();
    expect(helpers.filter(alive)).toEqual([]);
  });
});

describe('launchTarget on a Unix socket', () => {
  const eventLoop = (cmd: string, unix?: string) => resolveTarget({ name: 'unix', cmd, model: 'event-loop', delayMs: 0, unix });

  test('{socket}: a fresh path in a private directory per start, ready by /proc/net/unix, removed once stopped', async () => {
    const cmd = referenceCommand('event-loop', 'ts', 'unix');
    const [a, b] = await Promise.all([launchTarget(eventLoop(cmd), deadlines), launchTarget(eventLoop(cmd), deadlines)]);
    const path = a.endpoint.path as string;
    expect(path).toMatch(/server-models-.+\/server\.sock$/);
    expect(b.endpoint.path).not.toBe(path);
    expect(a.command).toContain(`--unix ${path}`);
    const client = await ProtocolClient.connectTo(a.endpoint, 2000);
    await client.send('hello');
    expect(await client.waitForAcks(1, 2000)).toBe(true);
    client.close();
    await Promise.all([a.stop(), b.stop()]);
    expect([existsSync(dirname(path)), existsSync(dirname(b.endpoint.path as string))]).toEqual([false, false]);
  });

  test('a fixed path: a server that never listens there is a LaunchError naming the path', async () => {
    const path = join(scratch, 'fixed.sock');
    await expect(launchTarget(eventLoop(fixtureCommand('never-listens', '0'), path), quick)).rejects.toThrow(`did not listen on ${path} within 1500 ms`);
  });
});

describe('process trees are walked through /proc/<pid>/task/<tid>/children', () => {
  test('the walk finds what the scan of every process finds, zombies included', async () => {
    // The kit's own tree: this Jest worker, the server it started, its child and that child's zombie.
    const server = await launchTarget(target(fixtureCommand('orphans-a-helper', '{port}')), deadlines);
    try {
      const zombieChild = () => processTree(server.pid, listProcesses()).some((p) => p.state === 'Z');
      expect(await pollUntil(zombieChild, 5000)).toBe(true);
      // Processes come and go between two looks (the fixture's helper starts half a second in): the two
      // ways must agree on one pair of looks taken back to back.
      let walked: string[] = [];
      let scanned: string[] = [];
      const agree = (): boolean => {
        walked = processTree(process.pid).map((p) => `${p.pid}${p.state}`).sort();
        scanned = processTree(process.pid, listProcesses()).map((p) => `${p.pid}${p.state}`).sort();
        return walked.join() === scanned.join();
      };
      expect(await pollUntil(agree, 3000)).toBe(true);
      expect(walked).toContain(`${server.pid}S`);
      expect(walked.some((p) => p.endsWith('Z'))).toBe(true);
    } finally {
      await server.stop();
    }
  });
});

describe('launchTarget finds the server process', () => {
  test('started directly, the command is the server', async () => {
    const server = await launchTarget(target(fixtureCommand('dies-on-connection', '{port}')), deadlines);
    expect(server.serverPid).toBe(server.pid);
    expect(server.launchers).toEqual([]);
    expect(server.launchedThrough).toBeUndefined();
    await server.stop();
  });

  test('started through sh -c without exec, the server is the shell\'s child and the shell a launcher', async () => {
    const server = await launchTarget(target(`sh -c '${fixtureCommand('dies-on-connection', '{port}')}; exit $?'`), deadlines);
    expect(server.serverPid).not.toBe(server.pid);
    expect(server.launchers.map((p) => p.pid)).toEqual([server.pid]);
    expect(listProcesses().find((p) => p.pid === server.serverPid)?.ppid).toBe(server.pid);
    expect(server.serverPids()).not.toContain(server.pid);
    expect(server.launchedThrough).toMatch(/^sh \(\d+\) → node \(\d+, the server\)$/);
    await server.stop();
  });
});

describe('launchTarget and the port it picks', () => {
  test('the port is outside the kernel ephemeral range, where no outgoing connection can take it', async () => {
    const ephemeral = readEphemeralRange();
    const server = await launchTarget(target(fixtureCommand('dies-on-connection', '{port}')), deadlines);
    await server.stop();
    expect(ephemeral).toBeDefined();
    if (ephemeral) expect(server.port < ephemeral[0] || server.port > ephemeral[1]).toBe(true);
  });

  test('a target that finds its picked port taken is started again on another port', async () => {
    const starts = join(scratch, 'taken-once');
    const server = await launchTarget(target(fixtureCommand('port-taken', '{port}', starts, '1', heldPort)), deadlines);
    const ports = startsOf(starts);
    expect(ports).toHaveLength(2);
    expect(ports[1]).not.toBe(ports[0]);
    expect(server.port).toBe(ports[1]);
    await server.stop();
  });

  test(`a target that finds every port taken is a LaunchError after ${PORT_ATTEMPTS} ports, and nothing is left`, async () => {
    const starts = join(scratch, 'taken-always');
    const before = pidsWithEnv(RUN_MARKER_ENV, runMarker).filter(alive).length;
    const launching = launchTarget(target(fixtureCommand('port-taken', '{port}', starts, '99', heldPort)), deadlines);
    await expect(launching).rejects.toThrow(LaunchError);
    await expect(launching).rejects.toThrow(new RegExp(`exited with code 1 before listening[\\s\\S]*EADDRINUSE[\\s\\S]*${PORT_ATTEMPTS} free ports tried`));
    expect(new Set(startsOf(starts)).size).toBe(PORT_ATTEMPTS);
    expect(pidsWithEnv(RUN_MARKER_ENV, runMarker).filter(alive)).toHaveLength(before);
  });

  test('a fixed port that is taken is not swapped for another: one start, then the LaunchError', async () => {
    const starts = join(scratch, 'taken-fixed');
    const fixed = resolveTarget({ name: 'fixed', cmd: fixtureCommand('port-taken', '4321', starts, '99', heldPort), model: 'event-loop', port: 4321, delayMs: 0 });
    await expect(launchTarget(fixed, deadlines)).rejects.toThrow(/exited with code 1 before listening on port 4321[\s\S]*EADDRINUSE/);
    expect(startsOf(starts)).toEqual([4321]);
  });
});

describe('a start that runs out of time in a run', () => {
  test('is tried again with the machine alone, and its case runs on the second start', async () => {
    const starts = join(scratch, 'second-start');
    const slow = resolveTarget({ name: 'slow once', cmd: fixtureCommand('listens-on-second-start', '{port}', starts), model: 'event-loop', delayMs: 0 });
    const listens: ConformanceCase = { ...caseDefaults, id: 'fixture.listens', level: 'MUST', title: 'it listens', run: async (ctx) => ({ message: `port ${ctx.server.port}` }) };
    const result = await runCase(listens, slow, quick);
    expect(result.outcome).toBe('pass');
    expect(startsOf(starts)).toHaveLength(2);
  });
});
