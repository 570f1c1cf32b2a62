import { makeDeadlines, pollUntil } from '../../harness/deadlines';
import { launchTarget, LaunchError, liveTargets, stopAllTargets } from '../../harness/launcher';
import { listProcesses, pidsWithEnv } from '../../harness/procfs';
import { RUN_MARKER_ENV } from '../../harness/reaper';
import { resolveTarget } from '../../harness/target';
import { runMarker } from '../../harness/watchdog';
import { fixtureCommand } from './launch-fixtures';

const deadlines = makeDeadlines(0, 1);
const quick = { ...deadlines, ready: () => 1500 };
const target = (cmd: string) => resolveTarget({ name: 'fixture', cmd, model: 'event-loop', delayMs: 0 });
const alive = (pid: number) => listProcesses().some((p) => p.pid === pid && p.state !== 'Z');

afterAll(() => stopAllTargets());

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
});
