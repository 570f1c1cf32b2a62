import { frame } from '../harness/client';
import { pollUntil } from '../harness/deadlines';
import { MIB, treeRss } from '../harness/tree-probe';
import { Target } from '../harness/target';
import { crowdsAreHeavy } from '../harness/models';
import { ConformanceCase, check } from './types';
import { clientEvidence, describeReceived } from './evidence';
import { expectStillServing } from './close';
import { floodWithoutReading } from './memory-pressure';

/** robustness.*: one bad client cannot hurt the others. */
export const robustnessCases: ConformanceCase[] = [
  {
    id: 'robustness.slow-reader',
    requirement: ['R5.5'],
    appliesTo: { models: 'unbounded', because: 'a client of a bounded model may legitimately wait for a slot' },
    tags: ['procfs', 'exclusive', 'slow'],
    level: 'SHOULD',
    exclusive: true,
    delayOverride: 0,
    title: 'a client that floods messages and never reads its acks neither delays others nor grows memory without bound',
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
      check(answered, `the other client acked within ${ctx.deadlines.ack(1)} ms ${when}`, describeReceived(other), { ...evidence, ...clientEvidence(other) });
      check(growth < 32 * MIB, 'resident memory to grow by less than 32 MiB during the flood', `${(growth / MIB).toFixed(1)} MiB`, evidence);
      const how = flood.ended === 'held' ? 'until the server stopped reading it'
        : flood.ended === 'closed' ? 'until the server closed it'
        : `for ${(flood.ms / 1000).toFixed(1)} s and the server still read it (its buffers never filled)`;
      return { message: `flooded ${(flood.written / MIB).toFixed(1)} MiB ${how}; the other client acked after ${latency} ms ${when}; memory +${(growth / MIB).toFixed(1)} MiB`, evidence };
    },
  },
  {
    id: 'robustness.idle-client',
    requirement: ['R5.4'],
    appliesTo: { models: 'unbounded', because: 'a client of a bounded model may legitimately wait for a slot' },
    tags: ['exclusive'],
    level: 'MUST',
    exclusive: crowdsAreHeavy,
    title: 'silent connected clients do not delay an active one',
    async run(ctx) {
      const idle = await Promise.all(Array.from({ length: 10 }, (_, i) => ctx.connect(`silent ${i + 1}`)));
      await idle[0].write('half a message, then silence');
      const active = await ctx.connect('active client');
      await active.send('hello');
      const deadline = ctx.deadlines.firstAck(idle.length + 1);
      const served = await active.waitForAcks(1, deadline);
      check(served, `an ack within ${deadline} ms while 10 clients sit silent`, describeReceived(active), clientEvidence(active));
    },
  },
  {
    id: 'robustness.non-ascii',
    requirement: ['R1.6'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'bytes ≥ 0x80 get an ack or a close, and the server keeps serving',
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
