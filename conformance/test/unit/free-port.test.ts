import { createServer, Server } from 'node:net';
import { pickFreePort, portCount, portsOutside, randomPorts } from '../../harness/free-port';

describe('portsOutside', () => {
  test("Linux's default ephemeral range leaves 1024–32767 and 61000–65535", () => {
    expect(portsOutside([32768, 60999])).toEqual([[1024, 32767], [61000, 65535]]);
  });

  test('a range that covers every unprivileged port leaves none', () => {
    expect(portsOutside([1024, 65535])).toEqual([]);
    expect(portsOutside([1, 65535])).toEqual([]);
  });
});

describe('portCount', () => {
  test('counts both ends of every range', () => {
    expect(portCount([[1024, 32767], [61000, 65535]])).toBe(31744 + 4536);
    expect(portCount([[2000, 2000]])).toBe(1);
    expect(portCount([])).toBe(0);
  });
});

describe('randomPorts', () => {
  test('draws across the ranges as if they were one', () => {
    const ranges = [[1024, 1025], [2000, 2000]] as const;
    const draws = [0, 0.34, 0.67, 0.999];
    expect(randomPorts([...ranges], draws.length, () => draws.shift() ?? 0)).toEqual([1024, 1025, 2000, 2000]);
  });

  test('never leaves the ranges', () => {
    const ranges = [[1024, 32767], [61000, 65535]] as const;
    for (const port of randomPorts([...ranges], 2000)) {
      expect(ranges.some(([from, to]) => port >= from && port <= to)).toBe(true);
    }
  });
});

describe('pickFreePort', () => {
  const listen = (port: number) =>
    new Promise<Server>((resolve, reject) => {
      const server = createServer().once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });

  test('skips a candidate that is in use and stays outside the ephemeral range', async () => {
    const held = await listen(0);
    const heldPort = (held.address() as { port: number }).port;
    try {
      // the range puts heldPort first among the candidates, so get-port must find it taken and move on
      const ephemeral = [heldPort + 1, 65535] as const;
      const draws = [(heldPort - 1024 + 0.5) / (heldPort - 1024 + 1)];
      const port = await pickFreePort('127.0.0.1', [...ephemeral], () => draws.shift() ?? 0.5);
      expect(port).not.toBe(heldPort);
      expect(port).toBeLessThan(ephemeral[0]);
    } finally {
      await new Promise((resolve) => held.close(resolve));
    }
  });
});
