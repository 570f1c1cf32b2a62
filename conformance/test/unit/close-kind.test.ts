import { connect, createServer, Server, Socket } from 'node:net';
import { AddressInfo } from 'node:net';
import { ClientOptions, ProtocolClient } from '../../harness/client';
import { pollUntil } from '../../harness/deadlines';
import { batchedCloseClassifier, classifyCloseRereading, classifyUnixEnd, closeKindViaSockDiag, MISSING_ROW_REREADS } from '../../harness/close-kind';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onPath } from '../../harness/listen-backlog';
import { TcpRow } from '../../harness/procfs';

/** A tiny server that answers the first bytes with "ack" and then does what `ending` says. */
function tinyServer(ending: (s: Socket) => void): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('error', () => undefined);
    s.once('data', () => s.write('ack', () => ending(s)));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port, sockets })));
}

describe('classifyClose through ProtocolClient', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  async function clientOf(ending: (s: Socket) => void, options?: ClientOptions): Promise<ProtocolClient> {
    const { server, port, sockets } = await tinyServer(ending);
    const client = await ProtocolClient.connect('127.0.0.1', port, 2000, options);
    cleanups.push(() => {
      client.close();
      for (const s of sockets) s.destroy();
      server.close();
    });
    await client.send('hello');
    return client;
  }

  test('a server that ends gracefully is seen as FIN', async () => {
    const c = await clientOf((s) => s.end());
    const ending = await c.waitForClose(2000);
    expect(c.text).toBe('ack');
    expect(ending.kind).toBe('fin');
  });

  test('a server that resets (SO_LINGER 0) right after its reply is seen as RST, not as an end', async () => {
    const c = await clientOf((s) => s.resetAndDestroy());
    const ending = await c.waitForClose(2000);
    expect(ending.kind).toBe('rst');
  });

  test('a server that never closes is seen as still open at the deadline', async () => {
    const c = await clientOf(() => undefined);
    const ending = await c.waitForClose(300);
    expect(c.text).toBe('ack');
    expect(ending.kind).toBe('open');
  });

  test('a batched classifier tells FIN from RST for ends that come together', async () => {
    const classifyEnd = batchedCloseClassifier();
    const ends: ((s: Socket) => void)[] = [(s) => s.end(), (s) => s.end(), (s) => s.resetAndDestroy(), (s) => s.end()];
    const clients = await Promise.all(ends.map((end) => clientOf(end, { classifyEnd })));
    const endings = await Promise.all(clients.map((c) => c.waitForClose(2000)));
    expect(endings.map((e) => e.kind)).toEqual(['fin', 'fin', 'rst', 'fin']);
  });

  test('without keeping what it received, a client still counts the acks and their times', async () => {
    const c = await clientOf((s) => s.end(), { keepReceived: false });
    await c.waitForClose(2000);
    expect({ text: c.text, acks: c.acks, trueAcks: c.ackStream.acks, times: c.ackTimes().length }).toEqual({ text: '', acks: 1, trueAcks: 1, times: 1 });
  });

  test('FIN is still FIN after the client half-closed first', async () => {
    const { server, port, sockets } = await tinyServer(() => undefined);
    server.on('connection', (s) => s.on('end', () => s.end()));
    const c = await ProtocolClient.connect('127.0.0.1', port, 2000);
    cleanups.push(() => {
      c.close();
      for (const s of sockets) s.destroy();
      server.close();
    });
    c.endWriting();
    expect((await c.waitForClose(2000)).kind).toBe('fin');
  });
});

describe('classifyCloseRereading: a row missing from one read of /proc/net/tcp', () => {
  const row = (state: string): TcpRow => ({ localAddress: '127.0.0.1', localPort: 40000, remoteAddress: '127.0.0.1', remotePort: 7000, state, txQueue: 0, rxQueue: 0, inode: 0 });
  const reader = (reads: TcpRow[][]) => {
    let n = 0;
    const read = jest.fn(() => reads[Math.min(n++, reads.length - 1)]);
    return read;
  };

  test('is looked for again, and a TIME_WAIT row found on the next read is a FIN, not an RST', () => {
    const read = reader([[], [row('TIME_WAIT')]]);
    expect(classifyCloseRereading(40000, 7000, read)).toBe('fin');
    expect(read).toHaveBeenCalledTimes(2);
  });

  test('that stays missing on every read is an RST, unless sock_diag still has the connection', () => {
    const read = reader([[]]);
    expect(classifyCloseRereading(40000, 7000, read, MISSING_ROW_REREADS, () => 'rst')).toBe('rst');
    expect(read).toHaveBeenCalledTimes(1 + MISSING_ROW_REREADS);
    expect(classifyCloseRereading(40000, 7000, reader([[]]), MISSING_ROW_REREADS, () => undefined)).toBe('rst');
    expect(classifyCloseRereading(40000, 7000, reader([[]]), MISSING_ROW_REREADS, () => 'fin')).toBe('fin');
  });

  test('sock_diag tells a FIN from the peer (CLOSE-WAIT) and a connection that is gone', async () => {
    if (!onPath('ss')) return; // the kit falls back to the table alone
    const server = createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    // a client that keeps its side open after the server's FIN: its socket sits in CLOSE_WAIT
    const c = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise((resolve) => c.once('connect', resolve));
    const local = c.localPort as number;
    c.on('data', () => undefined);
    try {
      expect(await pollUntil(() => closeKindViaSockDiag(local, port) === 'fin', 2000)).toBe(true);
      expect(closeKindViaSockDiag(local, port === 65535 ? 1 : port + 1)).toBe('rst');
    } finally {
      c.destroy();
      server.close();
    }
  });

  test('costs no second read when the row is there', () => {
    const read = reader([[row('CLOSE_WAIT')]]);
    expect(classifyCloseRereading(40000, 7000, read)).toBe('fin');
    expect(read).toHaveBeenCalledTimes(1);
  });
});

describe('over a Unix socket: the end of file is the FIN, ECONNRESET the RST', () => {
  const errno = (code: string): never => {
    throw Object.assign(new Error(code), { code });
  };
  test('classifyUnixEnd maps the next read of our socket', () => {
    expect(classifyUnixEnd(7, () => 0)).toBe('fin');
    expect(classifyUnixEnd(7, () => errno('ECONNRESET'))).toBe('rst');
    expect(classifyUnixEnd(7, () => errno('EAGAIN'))).toBe('open');
  });

  /** A Unix server that answers the first bytes with "ack", then does what `ending` says; `paused` leaves what it is sent unread. */
  async function unixClientOf(ending: (s: Socket) => void, paused: boolean): Promise<{ client: ProtocolClient; done: () => void }> {
    const dir = mkdtempSync(join(tmpdir(), 'sm-close-kind-'));
    const path = join(dir, 's.sock');
    const sockets: Socket[] = [];
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: paused }, (s) => {
      sockets.push(s);
      s.on('error', () => undefined);
      // paused: reply once the client's bytes are there, and leave them unread (pacing, not a wait for a condition)
      if (paused) setTimeout(() => s.write('ack', () => ending(s)), 100);
      else s.once('data', () => s.write('ack', () => ending(s)));
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const client = await ProtocolClient.connectTo({ path }, 2000);
    await client.send('hello');
    return { client, done: () => { client.close(); for (const s of sockets) s.destroy(); server.close(); rmSync(dir, { recursive: true, force: true }); } };
  }

  test('a server that ends gracefully is seen as FIN; one that closes with our bytes unread as RST, after its ack', async () => {
    const graceful = await unixClientOf((s) => s.end(), false);
    const unread = await unixClientOf((s) => s.destroy(), true);
    try {
      expect((await graceful.client.waitForClose(2000)).kind).toBe('fin');
      expect(graceful.client.text).toBe('ack');
      expect(graceful.client.unixInode).toEqual(expect.any(Number));
      expect((await unread.client.waitForClose(2000)).kind).toBe('rst');
      expect(unread.client.text).toBe('ack'); // a Unix stream delivers what came before the reset
    } finally {
      graceful.done();
      unread.done();
    }
  });
});
