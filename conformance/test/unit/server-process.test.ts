import { ProcessInfo } from '../../harness/procfs';
import { describeLaunch, findServerProcess } from '../../harness/server-process';

/** A process of a made-up snapshot: only pid, ppid and comm matter here. */
const proc = (pid: number, ppid: number, comm: string): ProcessInfo =>
  ({ pid, ppid, comm, state: 'S', pgrp: 10, session: 10, cpuTicks: 0, reapedTicks: 0, threads: 1, rssPages: 0, vsizeBytes: 0, startTicks: 0 });

// The kit (1) started npm (10) → sh (11) → node (12); node runs a pool master (12) with workers 13, 14.
const snapshot = [proc(1, 0, 'node'), proc(10, 1, 'npm exec'), proc(11, 10, 'sh'), proc(12, 11, 'node'), proc(13, 12, 'node'), proc(14, 12, 'node')];

describe('findServerProcess', () => {
  test('the command itself, when it holds the listening socket', () => {
    expect(findServerProcess(12, [12, 13, 14], snapshot.slice(3).concat(snapshot[0]))).toEqual({ pid: 12, launchers: [] });
  });

  test('below launchers: the topmost holder, with the launchers from the command down', () => {
    const found = findServerProcess(10, [12, 13, 14], snapshot);
    expect(found.pid).toBe(12);
    expect(found.launchers.map((p) => p.pid)).toEqual([10, 11]);
    expect(describeLaunch(found, 'node')).toBe('npm exec (10) → sh (11) → node (12, the server)');
  });

  test('a master that closed its own copy of the socket is still the server: the common ancestor of the workers', () => {
    expect(findServerProcess(10, [13, 14], snapshot).pid).toBe(12);
  });

  test('a single worker holding the socket under a launcher is the server', () => {
    expect(findServerProcess(10, [13], snapshot).pid).toBe(13);
  });

  test('holders in separate trees (a daemon forked away) give the topmost holder', () => {
    const daemon = [...snapshot, proc(20, 1, 'daemon'), proc(21, 20, 'daemon')];
    expect(findServerProcess(10, [21, 20], daemon).pid).toBe(20);
  });

  test('nothing holds a listening socket (no /proc view): the command is the server', () => {
    expect(findServerProcess(10, [], snapshot)).toEqual({ pid: 10, launchers: [] });
  });
});
