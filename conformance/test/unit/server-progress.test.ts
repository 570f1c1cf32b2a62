import { AddressInfo, createServer, Socket } from 'node:net';
import { ProtocolClient } from '../../harness/client';
import { pollUntil } from '../../harness/deadlines';
import { serverProgress, ServerProgress } from '../../harness/server-progress';

/** serverProgress counts what the far end has read and written, where queue lengths refill and hide it. */
describe('serverProgress', () => {
  test('sees a server stop reading, write, and read again', async () => {
    let far: Socket | undefined;
    const server = createServer((s) => {
      far = s;
      s.pause();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = await ProtocolClient.connect('127.0.0.1', (server.address() as AddressInfo).port, 5000);
    try {
      await pollUntil(() => far !== undefined, 5000);
      client.stopReading();
      // one write at a time, as the flood makes them, until the kernel stops taking them
      const chunk = Buffer.alloc(256 * 1024, 'x');
      let pending: Promise<void> = Promise.resolve();
      let flushed = true;
      await pollUntil(() => {
        if (flushed) {
          flushed = false;
          pending = client.write(chunk).then(() => void (flushed = true));
        }
        return false;
      }, 1500, 20);
      const held = await stable(client);
      expect(held.unread).toBeGreaterThan(0);
      expect(held.read + held.unread).toBeLessThanOrEqual(client.socket.bytesWritten);

      far?.write(Buffer.alloc(3000, 'a'));
      expect(await pollUntil(() => serverProgress(client)?.wrote === held.wrote + 3000, 5000)).toBe(true);
      expect(serverProgress(client)?.read).toBe(held.read);

      far?.resume();
      expect(await pollUntil(() => (serverProgress(client)?.read ?? 0) > held.read, 5000)).toBe(true);
      await pending;
    } finally {
      client.reset();
      far?.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** The counts once they hold still for 200 ms (the far end has stopped taking bytes). */
async function stable(client: ProtocolClient): Promise<ServerProgress> {
  let last: ServerProgress | undefined;
  let since = Date.now();
  await pollUntil(() => {
    const now = serverProgress(client);
    if (now === undefined || last === undefined || now.read !== last.read || now.wrote !== last.wrote) {
      last = now;
      since = Date.now();
      return false;
    }
    return Date.now() - since >= 200;
  }, 10_000, 20);
  if (last === undefined) throw new Error('no row for the connection in the socket table');
  return last;
}
