import { ConformanceCase } from './types';
import { check } from './types';
import { clientEvidence, describeReceived, expectExactly, expectFinAfter, expectStillOpen, pace } from './evidence';
import { frame } from '../harness/client';
import { judgingDelay, JUDGED_DELAY_MS, JUDGING_DELAY_MS } from './parallelism';

const ACK = 'ack';

/**
 * How much sooner than the delay an ack may arrive: timers measured from a cached loop time (libuv,
 * asyncio) can start a few ms before the read that triggered them. 10% of the delay, at least 5 ms.
 */
export function earlyAckTolerance(delayMs: number): number {
  return Math.max(5, Math.ceil(delayMs / 10));
}

/** protocol.*: one ack per ETX-framed message, exact bytes, and the goodbye rule. */
export const protocolCases: ConformanceCase[] = [
  {
    id: 'protocol.ack.single',
    requirement: ['R2.1', 'R2.4'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'one message gets exactly the three bytes "ack"',
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.send('hello');
      await expectExactly(c, ACK, deadlines.ack(1), deadlines.quiet());
    },
  },
  {
    id: 'protocol.ack.lockstep',
    requirement: ['R2.2'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'five messages sent one after another, each after the previous ack, get five acks',
    async run({ connect, deadlines }) {
      const c = await connect();
      for (let i = 1; i <= 5; i++) {
        await c.send(`message ${i}`);
        await expectExactly(c, ACK.repeat(i), deadlines.ack(1), 0);
      }
      await expectStillOpen(c, ACK.repeat(5), deadlines.quiet());
    },
  },
  {
    id: 'protocol.ack.after-delay',
    requirement: ['R2.3'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    delayOverride: (t, multiplier) => judgingDelay(t.delayMs, multiplier),
    skipReason: (t) => (t.delayMs < JUDGED_DELAY_MS && !t.cmd.includes('{delayMs}')
      ? `a ${t.delayMs} ms work delay: an early ack cannot be told from scheduling noise (give the command {delayMs} to run this case at ${JUDGING_DELAY_MS} ms)` : undefined),
    title: 'no ack arrives sooner after its message than the work delay (less a small tolerance)',
    async run({ connect, deadlines }) {
      const d = deadlines.delayMs;
      const tolerance = earlyAckTolerance(d);
      const c = await connect();
      const gaps: number[] = [];
      for (let i = 1; i <= 3; i++) {
        const sentAt = Date.now();
        await c.send(`work ${i}`);
        await expectExactly(c, ACK.repeat(i), deadlines.ack(1), 0);
        gaps.push((c.ackTimes()[i - 1] ?? Date.now()) - sentAt);
      }
      const earliest = Math.min(...gaps);
      check(earliest >= d - tolerance, `each ack at least ${d - tolerance} ms after its message (the ${d} ms work delay less ${tolerance} ms)`,
        `an ack ${earliest} ms after its message`, { gapsMs: gaps.join(' '), delayMs: d, toleranceMs: tolerance });
      return { message: `acks ${gaps.join(', ')} ms after their messages (delay ${d} ms)` };
    },
  },
  {
    id: 'protocol.framing.byte-by-byte',
    requirement: ['R1.2'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'a message split into one write per byte gets one ack',
    async run({ connect, deadlines }) {
      const c = await connect();
      for (const byte of frame('split-message')) {
        await c.write(Buffer.from([byte]));
        await pace(5);
      }
      await expectExactly(c, ACK, deadlines.ack(1), deadlines.quiet());
    },
  },
  {
    id: 'protocol.framing.packed',
    requirement: ['R1.3', 'R2.4'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'three messages in one write get three acks',
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.write(Buffer.concat([frame('one'), frame('two'), frame('three')]));
      await expectExactly(c, ACK.repeat(3), deadlines.ack(3), deadlines.quiet());
    },
  },
  {
    id: 'protocol.framing.no-ack-before-etx',
    requirement: ['R1.1'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'no ack arrives before the ETX does; the ack follows the ETX',
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.write('a message still being typed');
      await expectStillOpen(c, '', Math.max(deadlines.quiet(), deadlines.delayMs * 2));
      await c.write(Buffer.from([0x03]));
      await expectExactly(c, ACK, deadlines.ack(1), deadlines.quiet());
    },
  },
  {
    id: 'protocol.message.empty',
    requirement: ['R1.4'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'an empty message (ETX alone) is acked',
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.send('');
      await expectExactly(c, ACK, deadlines.ack(1), deadlines.quiet());
    },
  },
  {
    id: 'protocol.message.1kib',
    requirement: ['R1.5'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'a 1024-byte message is acked',
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.send('x'.repeat(1024));
      await expectExactly(c, ACK, deadlines.ack(1), deadlines.quiet());
    },
  },
  {
    id: 'protocol.goodbye.no-ack',
    requirement: ['R3.1'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: '"goodbye" gets no ack: the server closes without a byte',
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.send('goodbye');
      const ending = await c.waitForClose(deadlines.close());
      check(c.received.length === 0, 'no byte after "goodbye"', describeReceived(c), clientEvidence(c));
      // FIN versus RST is close.goodbye.fin's business; here only the bytes and the close count
      check(ending.kind !== 'open', `the server to close the connection within ${deadlines.close()} ms`, 'the connection still open', clientEvidence(c));
    },
  },
  {
    id: 'protocol.goodbye.exact-match',
    requirement: ['R3.3'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: '"goodbyeX", " goodbye", "GOODBYE" and "goodbye " are ordinary messages: acked, connection open',
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.write(Buffer.concat([frame('goodbyeX'), frame(' goodbye'), frame('GOODBYE'), frame('goodbye ')]));
      await expectExactly(c, ACK.repeat(4), deadlines.ack(4), 0);
      await expectStillOpen(c, ACK.repeat(4), deadlines.quiet());
    },
  },
  {
    id: 'protocol.goodbye.after-message',
    requirement: ['R3.2', 'R3.4'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: '"msg␃goodbye␃" in one write: one ack for msg, then the close',
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.write(Buffer.concat([frame('msg'), frame('goodbye')]));
      await expectFinAfter(c, ACK, deadlines.ack(1) + deadlines.close());
    },
  },
];

