import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { acceptQueueSummary, isLoopback, samplePort, serverSideOf } from '../../harness/accept-queue';
import { parseTcpRowsOfPort, parseTcpTable, TcpRow } from '../../harness/procfs';
import { servedFrom } from '../../harness/session-trace';

/**
 * /proc/net/tcp captured while a C single-process server on port 47313 (0xB8D1) had four clients: the
 * first sent a message and goodbye and was closed by the server (its row FIN_WAIT2, inode 0 again), the
 * second was being served (an inode), the third waited in the accept queue (ESTABLISHED, inode 0), and
 * the fourth waited there too after sending its FIN (CLOSE_WAIT, inode 0). The clients' own rows, a
 * stale TIME_WAIT row of an earlier client and rows of other ports are there too.
 */
const CAPTURED = readFileSync(join(__dirname, '..', '..', '..', 'fixtures', 'procfs', 'tcp-accept-queue.txt'), 'utf8');
const PORT = 47313;

describe('reading the accept queue from /proc/net/tcp', () => {
  test('parseTcpRowsOfPort keeps exactly the rows whose local port is the server\'s, as parseTcpTable reads them', () => {
    const rows = parseTcpRowsOfPort(CAPTURED, PORT);
    expect(rows).toEqual(parseTcpTable(CAPTURED).filter((r) => r.localPort === PORT));
    expect(rows.map((r) => r.state)).toEqual(['LISTEN', 'CLOSE_WAIT', 'FIN_WAIT2', 'ESTABLISHED', 'ESTABLISHED']);
    // the clients' rows name the port as their remote end: not the server's side
    expect(rows.every((r) => r.localPort === PORT)).toBe(true);
    expect(parseTcpRowsOfPort(CAPTURED, 1)).toEqual([]);
  });

  test('samplePort: queued (inode 0, not closing) or accepted per client port, and the LISTEN row\'s queue', () => {
    const sample = samplePort(parseTcpRowsOfPort(CAPTURED, PORT), PORT);
    expect(sample.listening).toBe(true);
    expect(sample.listenQueue).toBe(2);
    expect(Object.fromEntries(sample.connections)).toEqual({
      [0x8e00]: 'accepted', // served and closed by the server: FIN_WAIT2, inode 0
      [0x8e0e]: 'accepted', // being served: an inode
      [0x8e16]: 'queued', // ESTABLISHED, inode 0
      [0x8e20]: 'queued', // its FIN arrived while it waited: CLOSE_WAIT, inode 0
    });
    const queued = [...sample.connections.values()].filter((s) => s === 'queued').length;
    expect(queued).toBe(sample.listenQueue);
  });

  test('serverSideOf: an inode means accepted; inode 0 is queued until the connection is closing', () => {
    const row = (state: string, inode: number): TcpRow => ({ localAddress: '127.0.0.1', localPort: PORT, remoteAddress: '127.0.0.1', remotePort: 40000, state, txQueue: 0, rxQueue: 0, inode });
    expect(serverSideOf(row('ESTABLISHED', 123))).toBe('accepted');
    expect(serverSideOf(row('CLOSE_WAIT', 123))).toBe('accepted');
    for (const state of ['ESTABLISHED', 'SYN_RECV', 'CLOSE_WAIT']) expect(serverSideOf(row(state, 0))).toBe('queued');
    for (const state of ['FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'LAST_ACK', 'CLOSING']) expect(serverSideOf(row(state, 0))).toBe('accepted');
  });

  test('an IPv6 table reads the same way', () => {
    const v6 = [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000000000000000000001000000:B8D1 00000000000000000000000000000000:0000 0A 00000000:00000001 00:00000000 00000000     0        0 501 1 0000000000000000 100 0 0 10 0',
      '   1: 00000000000000000000000001000000:B8D1 00000000000000000000000001000000:9C40 01 00000000:00000000 00:00000000 00000000     0        0 0 1 0000000000000000 20 4 30 10 -1',
      '   2: 00000000000000000000000001000000:B8D1 00000000000000000000000001000000:9C41 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 20 4 30 10 -1',
    ].join('\n');
    const sample = samplePort(parseTcpRowsOfPort(v6, PORT), PORT);
    expect(sample).toEqual({ listening: true, listenQueue: 1, connections: new Map([[40000, 'queued'], [40001, 'accepted']]) });
  });
});

describe('what the traces make of it', () => {
  test('servedFrom: the first ack less the work delay, never before acceptance; unknown without either', () => {
    expect(servedFrom({ label: 'a', connectedAt: 0, acceptedAt: 10, acksAt: [500] }, 200)).toBe(300);
    expect(servedFrom({ label: 'b', connectedAt: 0, acceptedAt: 400, acksAt: [500] }, 200)).toBe(400);
    expect(servedFrom({ label: 'c', connectedAt: 0, acksAt: [500] }, 200)).toBeUndefined();
    expect(servedFrom({ label: 'd', connectedAt: 0, acceptedAt: 10, acksAt: [] }, 200)).toBeUndefined();
  });

  test('acceptQueueSummary counts the sessions that waited in the kernel and the listen queue\'s peak', () => {
    const summary = acceptQueueSummary([
      { label: 'a', connectedAt: 0, acceptedAt: 0, acksAt: [200] },
      { label: 'b', connectedAt: 1, acceptedAt: 205, acksAt: [400] },
      { label: 'c', connectedAt: 2, acksAt: [] },
    ], [[0, 1], [10, 2], [205, 1]]);
    expect(summary).toBe("1 of 2 sessions waited in the kernel's accept queue (longest 204 ms); listen queue peaked at 2; 1 not accepted while sampled");
    expect(acceptQueueSummary([{ label: 'a', connectedAt: 0, acksAt: [] }], [])).toBeUndefined();
  });

  test('isLoopback: the addresses whose server shares this machine\'s TCP tables', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopback(host)).toBe(true);
    for (const host of ['10.0.0.1', 'example.org', '::', '0.0.0.0']) expect(isLoopback(host)).toBe(false);
  });
});
