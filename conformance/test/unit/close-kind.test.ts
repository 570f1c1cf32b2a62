import { createServer, Server, Socket } from 'node:net';
import { AddressInfo } from 'node:net';
import { ProtocolClient } from '../../harness/client';

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

  async function clientOf(ending: (s: Socket) => void): Promise<ProtocolClient> {
    const { server, port, sockets } = await tinyServer(ending);
    const client = await ProtocolClient.connect('127.0.0.1', port, 2000);
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
