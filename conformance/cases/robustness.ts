import { frame } from '../harness/framing';
import { pollUntil } from '../harness/deadlines';
import { MIB, treeRss } from '../harness/tree-probe';
import { Target } from '../harness/target';
import { crowdsAreHeavy } from '../harness/models';
import { ConformanceCase, check, checkInTime } from './types';
import { clientEvidence, describeReceived, stillWaiting } from './evidence';
import { expectStillServing } from './close';
import { floodWithoutReading } from './memory-pressure';

/** robustness.*: one bad client cannot hurt the others. */
export const robustnessCases: ConformanceCase[] = [
  {
    id: 'robustness.slow-reader', level: 'SHOULD', requirement: ['R5.5'],
    appliesTo: { models: 'unbounded', because: 'a client of a bounded model may legitimately wait for a slot' },
    tags: ['procfs', 'processes', 'exclusive', 'slow'],
    exclusive: true,
    delayOverride: 0,
    title: 'a client that floods messages and never reads its acks neither delays others nor grows memory without bound',
    description: 'Unbounded models only, run at D = 0. An ordinary client and a flooder are each acked once; ' +
      'then the flooder stops reading and writes 8192 messages per write for up to 10 s × multiplier ' +
      '(30 s while the acks the server could not send yet still grow). ' +
      'Each time the server has read and written nothing of the flooder\'s for 300 ms × multiplier, ' +
      'with bytes of it unread, the ordinary client sends a message; ' +
      'the kit samples the tree\'s resident memory every 20 ms.',
    expectation: 'Every message of the ordinary client acked within 2 s × multiplier (D is 0): ' +
      'during each hold, or once after the flood if the server never held the flooder. ' +
      'The resident memory of the tree never more than 32 MiB above its level before the flood (not scaled). ' +
      'The flood ends when the server still has not touched the flooder after such a message, when it closes the flooder, ' +
      'or when the time is up.',
    why: 'A client that stops reading, a stuck mobile app or an attacker, fills the server\'s send buffer. ' +
      'A server that then blocks in write() freezes every other user, and one that queues the acks without limit grows until ' +
      'the out-of-memory killer ends it.',
    commonCauses: [
      'blocking write() of acks on the event-loop thread',
      'unsent acks queued without limit (Node socket.write() return value and \'drain\' ignored)',
      'reading on while a connection\'s output cannot be sent (no backpressure, EPOLLOUT never used)',
      'asyncio transport writes without await writer.drain()',
    ],
    async run(ctx) {
      const other = await ctx.connect('ordinary client');
      await other.send('warm-up');
      check(await other.waitForAcks(1, ctx.deadlines.ack(1)), 'the ordinary client served before the flood', describeReceived(other));
      // The flooder's session is set up before the baseline (a process or thread per connection is
      // the model's price, not a leak).
      const flooder = await ctx.connect('flooder');
      await flooder.send('about to flood');
      check(await flooder.waitForAcks(1, ctx.deadlines.ack(1)), 'the flooder served once first', describeReceived(flooder));
      const baseline = treeRss(ctx.server);
      // The other client is asked each time the server stops reading the flooder: a server that
      // blocks on the flooder's acks stops there, one that applies backpressure goes on serving.
      const latencies: number[] = [];
      let answered = true;
      const probe = async (): Promise<void> => {
        const sentAt = Date.now();
        await other.send(`am I still served? (${latencies.length + 1})`);
        answered = await other.waitForAcks(latencies.length + 2, ctx.deadlines.ack(1));
        latencies.push(Date.now() - sentAt);
      };
      const flood = await floodWithoutReading(ctx.server, ctx.deadlines, flooder, async () => {
        if (answered) await probe();
      });
      if (answered && flood.ended !== 'held') await probe();
      const peak = Math.max(baseline, flood.peak, treeRss(ctx.server));
      const growth = peak - baseline;
      const latency = Math.max(...latencies);
      const evidence = {
        floodedMiB: (flood.written / MIB).toFixed(1), floodEnded: flood.ended, floodMs: flood.ms, probes: latencies.length, ackLatencyMs: latency,
        memoryGrowthMiB: (growth / MIB).toFixed(1),
      };
      const when = flood.ended === 'held' ? 'while the server held the flooder' : 'after the flood';
      check(answered, `the other client acked within ${ctx.deadlines.ack(1)} ms ${when}`,
        `no ack for its message ${latencies.length + 1} (${describeReceived(other)} in all, for the ${latencies.length} before)`, { ...evidence, ...clientEvidence(other) });
      check(growth < 32 * MIB, 'resident memory to grow by less than 32 MiB during the flood', `${(growth / MIB).toFixed(1)} MiB`, evidence);
      const how = flood.ended === 'held' ? 'until the server stopped reading it'
        : flood.ended === 'closed' ? 'until the server closed it'
        : `for ${(flood.ms / 1000).toFixed(1)} s and the server still read it (its buffers never filled)`;
      return { message: `flooded ${(flood.written / MIB).toFixed(1)} MiB ${how}; the other client acked after ${latency} ms ${when}; memory +${(growth / MIB).toFixed(1)} MiB`, evidence };
    },
  },
  {
    id: 'robustness.idle-client', level: 'MUST', requirement: ['R5.4'],
    appliesTo: { models: 'unbounded', because: 'a client of a bounded model may legitimately wait for a slot' },
    tags: ['exclusive'],
    exclusive: crowdsAreHeavy,
    title: 'silent connected clients do not delay an active one',
    description: 'Unbounded models only. Opens 10 clients: the first writes half a message with no ETX, the others send ' +
      'nothing. Then an eleventh client sends one message.',
    expectation: 'The eleventh client acked within (D + 3 s) × multiplier (the first-ack allowance for 11 sessions) while the ' +
      '10 others stay silent.',
    why: 'Idle connections are everywhere: browsers open sockets in advance, and a slowloris attack sends half-requests on ' +
      'purpose. An event loop that waits on one of them freezes the whole server for everybody.',
    commonCauses: [
      'blocking read() inside an event-loop handler',
      'handler that reads until the ETX before it returns to the loop',
      'accept loop that serves each client to its end before accepting the next',
      'accepted sockets left blocking (no O_NONBLOCK) in a readiness-based loop',
    ],
    async run(ctx) {
      const idle = await Promise.all(Array.from({ length: 10 }, (_, i) => ctx.connect(`silent ${i + 1}`)));
      await idle[0].write('half a message, then silence');
      const active = await ctx.connect('active client');
      await active.send('hello');
      const deadline = ctx.deadlines.firstAck(idle.length + 1);
      const served = await active.waitForAcks(1, deadline);
      const expected = `an ack within ${deadline} ms while 10 clients sit silent`;
      if (!served && stillWaiting(active, ctx.server)) checkInTime(false, expected, describeReceived(active), clientEvidence(active));
      check(served, expected, describeReceived(active), clientEvidence(active));
    },
  },
  {
    id: 'robustness.non-ascii', level: 'MUST', requirement: ['R1.6'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'bytes ≥ 0x80 get an ack or a close, and the server keeps serving',
    description: 'Opens one client and sends a message of the 128 bytes 0x80 to 0xFF and its ETX. ' +
      'It waits for an ack or a close, closes the client, and after min(D, 100 ms) a new client sends one message.',
    expectation: 'Within (D + 2 s) × multiplier, either exactly "ack", or no byte and the connection closed. ' +
      'Then the server process is still alive, and the new client gets its ack within (D + 4 s) × multiplier; ' +
      'a live server gets that time once more with the machine to itself before it fails.',
    why: 'Whatever the protocol says, clients and attackers can send any byte. ' +
      'A server that decodes input as text and lets the error escape the session crashes, and one malformed request takes down ' +
      'every user.',
    commonCauses: [
      'input decoded as UTF-8 with strict errors (Python bytes.decode(), TextDecoder with fatal: true)',
      'decoding error not caught inside the session, so it ends the process',
      'signed char used as an array index or in a range check (char c = buf[i])',
      'assertion that every byte is ASCII',
    ],
    async run(ctx) {
      const c = await ctx.connect('non-ASCII client');
      const bytes = Buffer.from(Array.from({ length: 128 }, (_, i) => 0x80 + i));
      await c.write(frame(bytes));
      await pollUntil(() => c.acks > 0 || c.ending !== undefined, ctx.deadlines.ack(1));
      check(c.text === 'ack' || (c.received.length === 0 && c.ending !== undefined), 'an ack, or the connection closed',
        describeReceived(c), clientEvidence(c));
      c.close();
      await expectStillServing(ctx, 0, 'a message of bytes 0x80..0xff');
    },
  },
];
