import { ConformanceCase } from './types';
import { check } from './types';
import { clientEvidence, describeReceived, expectExactly, expectFinAfter, expectStillOpen, pace, UNIX_ENDS } from './evidence';
import { frame } from '../harness/framing';
import { judgingDelay, JUDGED_DELAY_MS, JUDGING_DELAY_MS } from './parallelism';

const ACK = 'ack';

/**
 * How much sooner than the delay an ack may arrive: timers measured from a cached loop time (libuv,
 * asyncio) can start a few ms before the read that triggered them. 10% of the delay, at least 5 ms.
 */
export function earlyAckTolerance(delayMs: number): number {
  return Math.max(5, Math.ceil(delayMs / 10));
}

/** The run of a case that sends one message on a new connection: exactly one "ack", then a quiet window. */
function expectOneAckFor(message: string): ConformanceCase['run'] {
  return async ({ connect, deadlines }) => {
    const c = await connect();
    await c.send(message);
    await expectExactly(c, ACK, deadlines.ack(1), deadlines.quiet());
  };
}

/** protocol.*: one ack per ETX-framed message, exact bytes, and the goodbye rule. */
export const protocolCases: ConformanceCase[] = [
  {
    id: 'protocol.ack.single', level: 'MUST', requirement: ['R2.1', 'R2.4'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'one message gets exactly the three bytes "ack"',
    description: 'Opens one client and sends one message, "hello" and its ETX, in one write. ' +
      'It reads every byte the server sends back, then watches the connection for a quiet window.',
    expectation: 'Exactly the three bytes "ack" within (D + 2 s) × multiplier of the send, then no further byte for the quiet ' +
      'window, max(1.5 × D, 300 ms) × multiplier. A close after the ack is not judged here.',
    why: 'Clients read three bytes per answer. A greeting, a newline or an echo shifts every later answer, so the client ' +
      'misreads all of them; an ack held in a buffer leaves the client waiting for an answer it is owed.',
    commonCauses: [
      'greeting written on accept, before any message',
      'newline or NUL written after the ack (write(fd, "ack", sizeof "ack") sends 4 bytes)',
      'message echoed back with the ack',
      'ack written to a stdio FILE * or another buffered writer that is never flushed',
    ],
    run: expectOneAckFor('hello'),
  },
  {
    id: 'protocol.ack.lockstep', level: 'MUST', requirement: ['R2.2'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'five messages sent one after another, each after the previous ack, get five acks',
    description: 'Opens one client and sends five messages, one at a time: ' +
      'each only after the ack of the one before has arrived. After the fifth ack it watches the connection for a quiet window.',
    expectation: 'Each message acked within (D + 2 s) × multiplier of its send, with exactly one "ack" per message so far and ' +
      'no other byte. After the fifth ack, the connection stays open and silent for max(1.5 × D, 300 ms) × multiplier.',
    why: 'Most clients wait for each answer before they send the next request. ' +
      'A server that closes after one answer, or skips an ack, leaves such a client hanging on a silent connection, or forces ' +
      'a reconnect for every request.',
    commonCauses: [
      'connection closed after the first answer (one request per connection)',
      'session that reads once and returns instead of looping until goodbye or end of stream',
      'ack written only when the next read arrives, which deadlocks a lock-step client',
      'parse state (buffer offset, message length) not reset after a message, so the next one is mis-framed',
    ],
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
    id: 'protocol.ack.after-delay', level: 'MUST', requirement: ['R2.3'],
    appliesTo: { models: 'all' }, tags: [],
    delayOverride: (t, multiplier) => judgingDelay(t.delayMs, multiplier),
    skipReason: (t) => (t.delayMs < JUDGED_DELAY_MS && !t.cmd.includes('{delayMs}')
      ? `a ${t.delayMs} ms work delay: an early ack cannot be told from scheduling noise (give the command {delayMs} to run this case at ${JUDGING_DELAY_MS} ms)` : undefined),
    title: 'no ack arrives sooner after its message than the work delay (less a small tolerance)',
    description: 'Opens one client and sends three messages in lock-step, each after the previous ack. ' +
      'It times each ack from the moment its message was written.',
    expectation: 'Each ack within (D + 2 s) × multiplier of its message, and none sooner than D less max(5 ms, ceil(D / 10)). ' +
      'Where the command takes {delayMs}, a D under 100 ms × multiplier is raised to 200 ms × multiplier; ' +
      'without {delayMs}, the case is skipped when D is under 100 ms.',
    why: 'An ack tells the client that its work is done. An ack sent before the work (a database write, a computation) lets ' +
      'the client act on a result that does not exist yet, and makes the server look more concurrent than it is.',
    commonCauses: [
      'ack written on receipt, before the sleep or the work',
      'work started asynchronously (a timer or a thread not awaited) while the ack is written at once',
      'delay option ignored, or read in seconds where milliseconds are given',
      'one delay per connection instead of one per message',
    ],
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
    id: 'protocol.framing.byte-by-byte', level: 'MUST', requirement: ['R1.2'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'a message split into one write per byte gets one ack',
    description: 'Opens one client and writes the message "split-message" and its ETX one byte per write, 5 ms apart, so that ' +
      'the bytes tend to arrive in separate reads. Then it watches for a quiet window.',
    expectation: 'Exactly one "ack" in all, within (D + 2 s) × multiplier of the last byte, and no further byte for ' +
      'max(1.5 × D, 300 ms) × multiplier.',
    why: 'Proxies, slow links and busy kernels split messages across reads. ' +
      'A server that takes each read for a message sends several acks for one request, and the client takes them for answers ' +
      'to requests it has not sent yet.',
    commonCauses: [
      'ack written per read() instead of per ETX',
      'bytes of an unfinished message dropped at the end of a read() instead of kept for the next',
      'recv() into a fixed buffer assumed to return one whole message',
    ],
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
    id: 'protocol.framing.packed', level: 'MUST', requirement: ['R1.3', 'R2.4'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'three messages in one write get three acks',
    description: 'Opens one client and writes three messages, "one", "two" and "three", each with its ETX, in a single write. ' +
      'Then it watches for a quiet window.',
    expectation: 'Exactly three "ack"s, all within (3 × D + 2 s) × multiplier of the write, and no further byte for ' +
      'max(1.5 × D, 300 ms) × multiplier.',
    why: 'Pipelining clients, and kernels that merge small writes, put several requests in one segment. ' +
      'A server that answers only the first request of each read leaves the client waiting for ever for the rest, and one that ' +
      'holds acks until the next read deadlocks it.',
    commonCauses: [
      'only the first ETX of a read buffer handled, the rest discarded',
      'ack written per read() instead of per ETX',
      'search for the ETX (strchr, indexOf) not repeated in a loop over the buffer',
      'acks of later messages written only when the next read() arrives',
    ],
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.write(Buffer.concat([frame('one'), frame('two'), frame('three')]));
      await expectExactly(c, ACK.repeat(3), deadlines.ack(3), deadlines.quiet());
    },
  },
  {
    id: 'protocol.framing.no-ack-before-etx', level: 'MUST', requirement: ['R1.1'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'no ack arrives before the ETX does; the ack follows the ETX',
    description: 'Opens one client and writes "a message still being typed" with no ETX, then waits. ' +
      'Then it writes the ETX alone and watches for the ack and a quiet window.',
    expectation: 'Before the ETX: no byte and no close for max(2 × D, max(1.5 × D, 300 ms) × multiplier). After the ETX: ' +
      'exactly one "ack" within (D + 2 s) × multiplier, and no further byte for max(1.5 × D, 300 ms) × multiplier.',
    why: 'On a real network a request can arrive in pieces, seconds apart. ' +
      'A server that answers whatever one read holds acks half a request, and from then on every answer the client reads ' +
      'belongs to another request.',
    commonCauses: [
      'ack written per read() instead of per ETX',
      'newline or end of a read taken for the end of a message',
      'read timeout that treats a pause as the end of a message',
      'connection closed when a read holds no ETX',
    ],
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.write('a message still being typed');
      await expectStillOpen(c, '', Math.max(deadlines.quiet(), deadlines.delayMs * 2));
      await c.write(Buffer.from([0x03]));
      await expectExactly(c, ACK, deadlines.ack(1), deadlines.quiet());
    },
  },
  {
    id: 'protocol.message.empty', level: 'MUST', requirement: ['R1.4'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'an empty message (ETX alone) is acked',
    description: 'Opens one client and sends an ETX with no byte before it: an empty message. ' +
      'Then it watches for a quiet window.',
    expectation: 'Exactly one "ack" within (D + 2 s) × multiplier of the ETX, and no further byte for ' +
      'max(1.5 × D, 300 ms) × multiplier.',
    why: 'Some clients send a bare ETX as a heartbeat. A server that drops it leaves the client waiting for an ack that never ' +
      'comes, and the client then declares a healthy server dead.',
    commonCauses: [
      'zero-length message skipped (if (len == 0) continue)',
      'split on ETX followed by a filter that drops empty strings',
      'empty message taken for the end of the stream or for an error',
    ],
    run: expectOneAckFor(''),
  },
  {
    id: 'protocol.message.1kib', level: 'MUST', requirement: ['R1.5'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'a 1024-byte message is acked',
    description: 'Opens one client and sends one message of 1024 "x" bytes and its ETX in one write. ' +
      'Then it watches for a quiet window.',
    expectation: 'Exactly one "ack" within (D + 2 s) × multiplier, and no further byte for max(1.5 × D, 300 ms) × multiplier.',
    why: 'Real requests are often longer than a few bytes. A server with a small fixed buffer cuts a 1 KiB request into ' +
      'several and acks each, so the client reads extra answers, or it overflows the buffer and crashes with every session.',
    commonCauses: [
      'fixed message buffer smaller than 1 KiB (e.g. char buf[256])',
      'full buffer taken for a complete message and acked',
      'copy into the message buffer without a bounds check (overflow)',
      'maximum message size set below 1024 bytes',
    ],
    run: expectOneAckFor('x'.repeat(1024)),
  },
  {
    id: 'protocol.goodbye.no-ack', level: 'MUST', requirement: ['R3.1'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: '"goodbye" gets no ack: the server closes without a byte',
    description: 'Opens one client and sends the message "goodbye". It waits for the server to close the connection and ' +
      'records every byte received.',
    expectation: 'No byte at all, and the connection closed by the server within (D + 2 s) × multiplier. ' +
      'A FIN and an RST both count here (close.goodbye.fin judges which). ' + UNIX_ENDS,
    why: 'A client that says goodbye reads nothing more. A server that acks it sends a byte nobody reads, and one that does ' +
      'not close keeps a descriptor, or a whole slot of a bounded pool, for a client that has left, so the next client waits.',
    commonCauses: [
      'goodbye handled as an ordinary message and acked before the close',
      'goodbye compared with a trailing ETX, CR or newline still attached, so it never matches',
      'session loop left on goodbye without closing the socket',
      'close deferred until the client closes first',
    ],
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
    id: 'protocol.goodbye.exact-match', level: 'MUST', requirement: ['R3.3'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: '"goodbyeX", " goodbye", "GOODBYE" and "goodbye " are ordinary messages: acked, connection open',
    description: 'Opens one client and writes four messages in one write: "goodbyeX", " goodbye", "GOODBYE" and "goodbye ". ' +
      'Then it watches the connection for a quiet window.',
    expectation: 'Exactly four "ack"s within (4 × D + 2 s) × multiplier, and the connection open with no further byte for ' +
      'max(1.5 × D, 300 ms) × multiplier.',
    why: 'A message that merely looks like goodbye is user data. A server that matches loosely ends sessions the client meant ' +
      'to keep, and the client\'s next request fails with a broken pipe.',
    commonCauses: [
      'prefix test (startsWith, strncmp with the length of "goodbye")',
      'trim() or strip() before the comparison',
      'case-insensitive comparison (strcasecmp, toLowerCase)',
      'substring search (includes, strstr)',
    ],
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.write(Buffer.concat([frame('goodbyeX'), frame(' goodbye'), frame('GOODBYE'), frame('goodbye ')]));
      await expectExactly(c, ACK.repeat(4), deadlines.ack(4), 0);
      await expectStillOpen(c, ACK.repeat(4), deadlines.quiet());
    },
  },
  {
    id: 'protocol.goodbye.after-message', level: 'MUST', requirement: ['R3.2', 'R3.4', 'R0.1'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: '"msg␃goodbye␃" in one write: one ack for msg, then the close',
    description: 'Opens one client and writes "msg" and "goodbye", each with its ETX, in one write. ' +
      'It waits for the server to close, records the bytes and tells a FIN from an RST.',
    expectation: 'Exactly one "ack", then a FIN (not an RST), within (2 × D + 4 s) × multiplier of the write: ' +
      'the ack allowance (D + 2 s) plus the close allowance (D + 2 s), both × multiplier. ' + UNIX_ENDS,
    why: 'Clients often send their last request and goodbye together. ' +
      'A server that acts on goodbye as soon as it parses it drops the request the client was promised an answer to, and a ' +
      'reset instead of a FIN can discard an ack already sent.',
    commonCauses: [
      'goodbye acted on when parsed, before the earlier messages of the same read are worked',
      'socket closed while an owed ack is still being worked (a timer, a worker thread)',
      'whole read discarded when it contains goodbye',
      'SO_LINGER set to 0, which closes with RST',
    ],
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.write(Buffer.concat([frame('msg'), frame('goodbye')]));
      await expectFinAfter(c, ACK, deadlines.ack(1) + deadlines.close());
    },
  },
];

