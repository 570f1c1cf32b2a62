import FakeTimers from '@sinonjs/fake-timers';
import { once } from 'node:events';
import { AddressInfo, connect, createServer, Socket } from 'node:net';
import { makeDeadlines, pollUntil, resolveMultiplier, waitUntilSettled, BASE_ANSWER_SLACK_MS } from '../../harness/deadlines';

describe('makeDeadlines', () => {
  test('derive from the declared delay and scale with the multiplier', () => {
    const d1 = makeDeadlines(200, 1);
    const d3 = makeDeadlines(200, 3);
    expect(d1.ack(1)).toBe(200 + BASE_ANSWER_SLACK_MS);
    expect(d1.ack(5)).toBe(5 * 200 + BASE_ANSWER_SLACK_MS);
    expect(d3.ack(5)).toBe(3 * d1.ack(5));
    expect(d3.close()).toBe(3 * d1.close());
    expect(d3.ready()).toBe(3 * d1.ready());
  });
  test('the quiet window outlasts the work delay', () => {
    expect(makeDeadlines(2000, 1).quiet()).toBeGreaterThan(2000);
    expect(makeDeadlines(0, 1).quiet()).toBeGreaterThan(0);
  });
});

describe('resolveMultiplier', () => {
  test('explicit value wins over the environment', () => {
    expect(resolveMultiplier('2.5', { SM_TIMEOUT_MULTIPLIER: '4' })).toBe(2.5);
  });
  test('reads SM_TIMEOUT_MULTIPLIER, default 1', () => {
    expect(resolveMultiplier(undefined, { SM_TIMEOUT_MULTIPLIER: '4' })).toBe(4);
    expect(resolveMultiplier(undefined, {})).toBe(1);
  });
  test('rejects nonsense with a clear message', () => {
    expect(() => resolveMultiplier('fast', {})).toThrow(/positive number, got "fast"/);
    expect(() => resolveMultiplier('0', {})).toThrow(RangeError);
  });
});

/** Fakes timers and Date around each test of the enclosing describe; returns the clock of the running test. */
function fakeClock(): () => FakeTimers.Clock {
  let clock: FakeTimers.Clock | undefined;
  beforeEach(() => {
    clock = FakeTimers.install({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => clock?.uninstall());
  return () => clock as FakeTimers.Clock;
}

describe('pollUntil (fake clock)', () => {
  const clock = fakeClock();

  test('resolves true as soon as the condition holds', async () => {
    let ready = false;
    const result = pollUntil(() => ready, 5000, 10);
    await clock().tickAsync(300);
    ready = true;
    await clock().tickAsync(10);
    await expect(result).resolves.toBe(true);
    expect(Date.now()).toBeLessThan(1000);
  });

  test('resolves false at the deadline, not before', async () => {
    let settled = false;
    const result = pollUntil(() => false, 5000, 10).then((v) => {
      settled = true;
      return v;
    });
    await clock().tickAsync(4990);
    expect(settled).toBe(false);
    await clock().tickAsync(20);
    await expect(result).resolves.toBe(false);
  });

  test('propagates an error thrown by the condition', async () => {
    const result = pollUntil(() => {
      throw new Error('probe broke');
    }, 1000);
    await expect(result).rejects.toThrow('probe broke');
  });
});

describe('pollUntil on a stalled event loop (real clock)', () => {
  // A loaded machine can stall the kit's event loop past a deadline while the answer sits in a socket
  // or pipe. Node then runs the deadline's timer before it reads that answer; it must still count.
  test('an answer that arrived while the loop was stalled past the deadline is seen', async () => {
    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const client = connect(port, '127.0.0.1');
    const [[peer]] = await Promise.all([once(server, 'connection') as Promise<[Socket]>, once(client, 'connect')]);
    try {
      let answered = false;
      client.on('data', () => (answered = true));
      const result = pollUntil(() => answered, 50, 10);
      peer.write('ack'); // on loopback the bytes are in the client's receive buffer when write returns
      const stalledUntil = Date.now() + 150; // a stall, not a wait: the loop is blocked past the deadline
      while (Date.now() < stalledUntil);
      await expect(result).resolves.toBe(true);
    } finally {
      client.destroy();
      peer.destroy();
      server.close();
    }
  });
});

describe('waitUntilSettled (fake clock)', () => {
  const clock = fakeClock();

  test('stays open while the value keeps changing, closes after a quiet period', async () => {
    let served = 0;
    const result = waitUntilSettled(() => served, 1000, 60_000, 10);
    for (let i = 0; i < 5; i++) {
      await clock().tickAsync(800); // a new ack every 800 ms keeps the window open
      served++;
    }
    await clock().tickAsync(1100);
    await expect(result).resolves.toBe(5);
    expect(Date.now()).toBeGreaterThanOrEqual(5 * 800 + 1000);
  });

  test('never waits past the cap', async () => {
    let served = 0;
    const result = waitUntilSettled(() => served, 1000, 3000, 10);
    const ticker = setInterval(() => served++, 500);
    await clock().tickAsync(3100);
    clearInterval(ticker);
    await expect(result).resolves.toBeGreaterThan(0);
    expect(Date.now()).toBeLessThan(3200);
  });
});
