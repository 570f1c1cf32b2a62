import { AddressInfo, createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { pollUntil } from '../../harness/deadlines';
import { parseStat, parseTcpTable, parseUnixTable, processTree, readListeners, readProcess, readTcpTable, readUnixListeners, readUnixTable, runnableNs, runnableShare, socketInodes } from '../../harness/procfs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';

describe('parseStat', () => {
  test('parses after the last parenthesis: comm may hold spaces and parens', () => {
    const line = '4242 (my (odd) server) S 100 4242 4242 0 -1 4194560 500 0 0 0 7 3 4 1 20 0 3 0 12345 1000000 250 18446744073709551615';
    const p = parseStat(line);
    expect(p).toMatchObject({ pid: 4242, comm: 'my (odd) server', state: 'S', ppid: 100, pgrp: 4242, session: 4242, cpuTicks: 10, reapedTicks: 5, threads: 3, vsizeBytes: 1000000, rssPages: 250 });
  });
  test('reads this very process', () => {
    const me = readProcess(process.pid);
    expect(me?.pid).toBe(process.pid);
    expect(me?.ppid).toBe(process.ppid);
    expect(processTree(process.pid).map((p) => p.pid)).toContain(process.pid);
  });
});

describe('parseUnixTable', () => {
  test('a listener (__SO_ACCEPTCON, state 01), its accepted and not yet accepted connections, an unbound socket, a path with a space', () => {
    const text = [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '0000000000000000: 00000002 00000000 00010000 0001 01 100 /tmp/a.sock',
      '0000000000000000: 00000003 00000000 00000000 0001 03 101 /tmp/a.sock',
      '0000000000000000: 00000002 00000000 00000000 0001 03 0 /tmp/a.sock',
      '0000000000000000: 00000003 00000000 00000000 0001 03 102',
      '0000000000000000: 00000002 00000000 00010000 0001 01 103 /tmp/my server.sock',
      '0000000000000000: 00000002 00000000 00000000 0002 01 104 /run/dgram.sock',
    ].join('\n');
    expect(parseUnixTable(text)).toEqual([
      { inode: 100, path: '/tmp/a.sock', type: 1, state: 1, listening: true },
      { inode: 101, path: '/tmp/a.sock', type: 1, state: 3, listening: false },
      { inode: 0, path: '/tmp/a.sock', type: 1, state: 3, listening: false },
      { inode: 102, path: '', type: 1, state: 3, listening: false },
      { inode: 103, path: '/tmp/my server.sock', type: 1, state: 1, listening: true },
      { inode: 104, path: '/run/dgram.sock', type: 2, state: 1, listening: false },
    ]);
  });
  test('reads a live listener on a path, and the socket it accepted, which carries the same path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-unix-table-'));
    const path = join(dir, 's.sock');
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const client = connect({ path });
    try {
      const listener = [...readUnixListeners()].find(([, p]) => p === path);
      // a real inode, and one of this process's own sockets
      expect(listener?.[0]).toBeGreaterThan(0);
      expect(socketInodes(process.pid)).toContain(listener?.[0]);
      await new Promise((resolve) => client.once('connect', resolve));
      expect(await pollUntil(() => readUnixTable().some((r) => r.path === path && !r.listening && r.inode !== 0), 2000)).toBe(true);
    } finally {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('parseTcpTable', () => {
  test('decodes IPv4 and IPv6 rows, ports and states', () => {
    const v4 = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11111 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:0BB8 0100007F:D431 08 00000A00:0001F000 00:00000000 00000000     0        0 22222 1 0000000000000000 20 4 30 10 -1',
    ].join('\n');
    const rows = parseTcpTable(v4);
    expect(rows[0]).toEqual({ localAddress: '127.0.0.1', localPort: 3000, remoteAddress: '0.0.0.0', remotePort: 0, state: 'LISTEN', txQueue: 0, rxQueue: 0, inode: 11111 });
    expect(rows[1]).toMatchObject({ remotePort: 0xd431, state: 'CLOSE_WAIT', txQueue: 0xa00, rxQueue: 0x1f000, inode: 22222 });
    const v6 = [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000000000000000000001000000:0BB8 0000000000000000FFFF00000100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 33333 1 0000000000000000 20 4 30 10 -1',
    ].join('\n');
    expect(parseTcpTable(v6)[0]).toMatchObject({ localAddress: '0:0:0:0:0:0:0:1', remoteAddress: '::ffff:127.0.0.1', remotePort: 40000, state: 'ESTABLISHED' });
  });
  test('socketInodes lists what this process holds; readListeners finds its listener and the table agrees', async () => {
    const before = new Set(socketInodes(process.pid));
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const added = socketInodes(process.pid).filter((inode) => !before.has(inode));
      expect(added).toHaveLength(1);
      expect(readListeners().get(added[0])).toBe(port);
      // A fresh read (not the shared one) agrees with the table's LISTEN rows. Other test files open
      // and close listeners meanwhile, so it is held between a read before and one after: it lists every
      // row in both, and none in neither.
      const listenRows = (): string[] => readTcpTable().filter((r) => r.state === 'LISTEN').map((r) => `${r.inode}:${r.localPort}`);
      const first = new Set(listenRows());
      const fresh = [...readListeners('self', 0)].map(([inode, listenPort]) => `${inode}:${listenPort}`);
      const last = new Set(listenRows());
      expect(fresh).toContain(`${added[0]}:${port}`);
      expect([...first].filter((row) => last.has(row) && !fresh.includes(row))).toEqual([]);
      expect(fresh.filter((row) => !first.has(row) && !last.has(row))).toEqual([]);
    } finally {
      server.close();
    }
    expect(socketInodes(999_999_999)).toEqual([]);
  });
});

describe('runnableNs', () => {
  test('a spinning process is runnable all the window, a sleeping one hardly at all', async () => {
    const spin = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
    // a process that is asleep from its first instant (a Node one would still be starting up under load)
    const sleep = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const pids = [spin.pid as number, sleep.pid as number];
      expect(await pollUntil(() => readProcess(sleep.pid as number)?.state === 'S', 5000)).toBe(true);
      const before = runnableNs(pids);
      const at = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 400));
      const after = runnableNs(pids);
      const ms = Date.now() - at;
      const share = (pid: number): number => runnableShare(new Map([[pid, before.get(pid) ?? 0]]), new Map([[pid, after.get(pid) ?? 0]]), ms) ?? -1;
      expect(share(spin.pid as number)).toBeGreaterThan(0.75);
      expect(share(sleep.pid as number)).toBeLessThan(0.1);
    } finally {
      spin.kill('SIGKILL');
      sleep.kill('SIGKILL');
    }
  });
});
