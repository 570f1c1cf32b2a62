import { ConformanceCase, check } from './types';
import { clientEvidence, describeReceived, expectExactly, expectFinAfter } from './evidence';
import { frame } from '../harness/client';
import { pollUntil } from '../harness/deadlines';
import { readTcpTable } from '../harness/procfs';
import { CaseContext } from './types';

/**
 * After a disturbance, a new client must still be served by the same server process. The probe waits
 * until the writes that could kill the server are due (`owedDelays` work delays: an ack written to a
 * client that left raises SIGPIPE then), so a server that dies of them is not seen alive a moment early.
 */
export async function expectStillServing(ctx: CaseContext, owedDelays: number, what: string): Promise<void> {
  const d = ctx.deadlines;
  // Not a wait for a condition: the danger is over only once the owed writes have been tried. Ends at once if the server dies.
  await pollUntil(() => !ctx.server.serverAlive(), owedDelays * d.delayMs + Math.min(d.delayMs, 100), 20);
  const died = (): string => {
    const exit = ctx.server.exitStatus();
    return exit ? `the server died (${exit.signal ?? `exit code ${exit.code}`})` : `the server process ${ctx.server.serverPid} is gone`;
  };
  check(ctx.server.serverAlive(), `the server alive after ${what}`, died());
  const next = await ctx.connect('next client');
  await next.send('are you still there?');
  // Survival, not speed, is the question: the deadline is generous (a server that died is noticed
  // at once), so a busy machine is not mistaken for a dead server.
  const deadline = d.ack(1) + 2 * d.slack();
  const answered = (): boolean => next.acks >= 1 || !ctx.server.serverAlive();
  // A process per connection may not get the CPU to start among other cases: the same wait again with
  // the machine alone before a live server is called unresponsive.
  if (!(await pollUntil(answered, deadline))) await ctx.alone(() => pollUntil(answered, deadline));
  check(next.acks === 1 && ctx.server.serverAlive(), `a new client served by the same server process within ${deadline} ms after ${what}`,
    ctx.server.serverAlive() ? describeReceived(next) : died(), clientEvidence(next));
}

/** close.*: the server closes gracefully (FIN) when it should, and survives clients that don't. */
export const closeCases: ConformanceCase[] = [
  {
    id: 'close.goodbye.fin',
    requirement: ['R3.2'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'the server answers "goodbye" with FIN: never RST, never silence',
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.send('goodbye');
      await expectFinAfter(c, '', deadlines.close());
    },
  },
  {
    id: 'close.eof.after-acks',
    requirement: ['R4.1'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'after the client half-closes, the server sends the acks it owes, then FIN',
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.write(Buffer.concat([frame('first'), frame('second')]));
      c.endWriting();
      await expectFinAfter(c, 'ackack', deadlines.ack(2) + deadlines.close());
    },
  },
  {
    id: 'close.eof.idle',
    requirement: ['R4.2'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'a client that connects and half-closes without a message gets FIN',
    async run({ connect, deadlines }) {
      const c = await connect();
      c.endWriting();
      await expectFinAfter(c, '', deadlines.close());
    },
  },
  {
    id: 'close.eof.full-close',
    requirement: ['R4.3'],
    appliesTo: { models: 'all' },
    tags: ['procfs'],
    level: 'MUST',
    sharesServer: true,
    title: 'a client that closes fully sees the server close too (its socket leaves FIN_WAIT2)',
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.send('one');
      await expectExactly(c, 'ack', deadlines.ack(1), 0);
      c.close();
      // Our closed socket waits in FIN_WAIT2 until the server's FIN arrives (then TIME_WAIT).
      const state = (): string | undefined =>
        readTcpTable('self').find((r) => r.localPort === c.localPort && r.remotePort === c.remotePort)?.state;
      const closed = await pollUntil(() => { const s = state(); return s !== 'FIN_WAIT1' && s !== 'FIN_WAIT2'; }, deadlines.close());
      check(closed, `the server to close its side within ${deadlines.close()} ms after the client closed`,
        `our socket still in ${state()}: the server never closed (it keeps the socket in CLOSE_WAIT)`, { ports: `${c.localPort} -> ${c.remotePort}` });
    },
  },
  {
    id: 'close.rst.server-survives',
    requirement: ['R5.1'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'a client that resets its connection mid-message does not disturb the server',
    async run(ctx) {
      const c = await ctx.connect('resetting client');
      await c.send('about to vanish');
      await c.write('half a mess');
      c.reset();
      await expectStillServing(ctx, 1, 'a client reset');
    },
  },
  {
    id: 'close.connect-close.server-survives',
    requirement: ['R5.2'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'clients that connect and close at once do not disturb the server',
    async run(ctx) {
      for (let i = 0; i < 5; i++) (await ctx.connect(`connect-then-close ${i + 1}`)).close();
      await expectStillServing(ctx, 0, 'five connect-then-close clients');
    },
  },
  {
    id: 'close.leave-before-ack.server-survives',
    requirement: ['R5.3'],
    appliesTo: { models: 'all' },
    tags: [],
    level: 'MUST',
    sharesServer: true,
    title: 'a client that leaves before its acks arrive (the server writes to a reset socket) does not kill the server',
    async run(ctx) {
      const c = await ctx.connect('leaving client');
      await c.write(Buffer.concat([frame('first'), frame('second'), frame('third')]));
      c.close();
      await expectStillServing(ctx, 3, 'a client left before its acks (EPIPE / SIGPIPE on the server)');
    },
  },
];
