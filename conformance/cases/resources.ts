import { pollUntil } from '../harness/deadlines';
import { crowdsAreHeavy, hasProcessPool, Limit, MODEL_TRAITS } from '../harness/models';
import { childrenOf, describeFdCounts, describeProcess, describeSocket, describeUnixSocket, fdGrowth, fdsByKind, heldConnections, MIB, sampleTree, TreeSample } from '../harness/tree-probe';
import { CaseContext, ConformanceCase, Exercise, check } from './types';
import { backToRest, cpuShare, exercise, ticksPerProcess, requireServer, stableBaseline, warmUp } from './resource-helpers';
import { EVERY_END } from './session-mix';
import { describeReceived, UNIX_ENDS } from './evidence';
import { streamWithoutEtx } from './memory-pressure';

/**
 * 25 sessions of unjoined threads leave 25 stacks; glibc's cache of freed stacks holds 40 MiB of them
 * (five of 8 MiB, twenty of 2 MiB): strays count from this many, and only beyond what the cache holds.
 */
const STRAY_STACK_LIMIT = 10;

/** What the shared session mix saw: baselines, then the tree after sessions ended every way. */
export interface MixObservation {
  /** before any session */
  cold: TreeSample;
  /** idle, after one warm-up session: the baseline every count must come back to */
  rest: TreeSample;
  /** after a first round of every ending: where stray thread stacks are counted from */
  warm: TreeSample;
  /** sessions run after the baseline (the mix, then the burst) */
  sessions: number;
  /** the tree once the mix was over and its zombies, if any, had had time to be reaped */
  afterMix: TreeSample;
  /** sessions in the burst that ended at the same moment */
  burst: number;
  evidence: Record<string, unknown>;
}

/**
 * Rounds of every ending after the first: four more for unbounded models (they run ten at a time), one
 * more for bounded ones (each session waits its turn: a leak per session shows as well in ten as in
 * twenty-five, and a serial server at a 2 s delay pays 2 s a session).
 */
export function mixRounds(limit: Limit): number {
  return limit === 'unbounded' ? 4 : 1;
}

/** Samples the tree until it holds no zombie, or the close deadline passes; returns the last sample. */
async function zombiesReaped(ctx: CaseContext): Promise<TreeSample> {
  let sample = sampleTree(ctx.server);
  await pollUntil(() => (sample = sampleTree(ctx.server)).zombies.length === 0, ctx.deadlines.close() + ctx.deadlines.slack(), 50);
  return sample;
}

/**
 * One warm-up session, the idle baseline, a mix of sessions ending every way, then a burst of sessions
 * ending at the same moment: descriptors, processes, threads and zombies are each judged on it.
 */
export const sessionMixExercise: Exercise<MixObservation> = {
  id: 'session mix',
  async run(ctx) {
    const cold = sampleTree(ctx.server);
    // One complete session first, so lazily created resources (a pool's first use, a runtime's helper)
    // join the baseline; only a clean goodbye, so a session the server mishandles is not absorbed in it.
    const evidence = await warmUp(ctx);
    await stableBaseline(ctx, (s) => `${s.fds.length}/${s.processes.length}/${s.threads}`);
    const rest = sampleTree(ctx.server);
    // Then a round of every ending: runtimes reserve address space once (V8 grows its heap reservation
    // by ~128 MiB early on), which would look like thread stacks; stray stacks are counted from here.
    Object.assign(evidence, await exercise(ctx, 1));
    const warm = sampleTree(ctx.server);
    const rounds = mixRounds(ctx.target.limit);
    Object.assign(evidence, await exercise(ctx, rounds));
    const afterMix = await zombiesReaped(ctx);
    const burst = await burstEndingTogether(ctx);
    return { cold, rest, warm, sessions: (rounds + 1) * EVERY_END.length + burst, afterMix, burst, evidence };
  },
};

/** The mix's burst: 50 sessions (L when bounded) that each get an ack, then all say goodbye at one moment. Returns their number. */
async function burstEndingTogether(ctx: CaseContext): Promise<number> {
  const burst = ctx.target.limit === 'unbounded' ? 50 : ctx.target.limit;
  const clients = await Promise.all(Array.from({ length: burst }, (_, i) => ctx.connect(`burst ${i + 1}`)));
  await Promise.all(clients.map((c) => c.send('hello')));
  await Promise.all(clients.map((c) => c.waitForAcks(1, ctx.deadlines.firstAck(burst))));
  await Promise.all(clients.map((c) => c.send('goodbye'))); // every session ends at the same moment
  await Promise.all(clients.map((c) => c.waitForClose(ctx.deadlines.close())));
  for (const c of clients) c.close(); // a client left without FIN gives up: its session is over too
  requireServer(ctx, `during the burst of ${burst} sessions`);
  return burst;
}

/** Threads a runtime may add or drop on its own between two samples (a JIT compiler thread, a GC helper). */
const RUNTIME_THREAD_JITTER = 1;

/** What the cases judged on the session mix declare alike: its exercise, and the machine alone where crowds are heavy. */
const ON_THE_SESSION_MIX: Pick<ConformanceCase, 'tags' | 'exclusive' | 'exercise'> = {
  tags: ['procfs', 'processes', 'exclusive', 'slow'],
  exclusive: crowdsAreHeavy,
  exercise: sessionMixExercise,
};

/** The session mix, as the cases that share it with resources.fds describe it. */
const SHARES_THE_MIX = 'Shares the session mix of resources.fds: a warm-up session, 25 sessions ending every way for an unbounded ' +
  'model (10 for a bounded one), then a burst of 50 sessions (L when bounded) ending with "goodbye" at the same moment. ';

/** resources.*: the server gives back what each session took, and costs nothing while idle. */
export const resourceCases: ConformanceCase[] = [
  {
    id: 'resources.fds',
    requirement: ['R7.1'],
    appliesTo: { models: 'all' },
    level: 'MUST',
    ...ON_THE_SESSION_MIX,
    title: 'descriptors of every kind (sockets, pipes, files, eventfd, epoll, …) return to the idle baseline after sessions ended every way',
    description: 'Runs one warm-up session and takes the idle baseline, then sessions that end every way ' +
      '(goodbye, half-close, full close, reset, connect-then-close): ' +
      '25 for an unbounded model, 10 for a bounded one, then a burst of 50 (L when bounded) ending at the same moment. ' +
      'It counts every descriptor of every process of the server tree through /proc.',
    expectation: 'Within (D + 4 s) × multiplier after the last session, the tree holds at most as many descriptors as at the ' +
      'idle baseline, counted over every kind (sockets, pipes, files, eventfd, epoll, timerfd and the rest). ' +
      'What the warm-up session created is part of the baseline.',
    why: 'A descriptor leaked per session cannot be seen in a short test. ' +
      'In a long run the server reaches its descriptor limit, accept() fails with EMFILE, and every new client is refused ' +
      'until a restart.',
    commonCauses: [
      'socket not closed on an error, reset or half-close path',
      'accepted socket not closed in the parent after fork()',
      'pipe, eventfd or timerfd created per session and never closed',
      'log or data file opened per session',
      'epoll instance created per connection',
    ],
    async run(ctx) {
      const { cold, rest, sessions, evidence } = await ctx.exercised(sessionMixExercise);
      // Lazily created, bounded resources (a pool's first use, a runtime's helper) join the baseline.
      const lazy = fdGrowth(cold.fds, rest.fds);
      const { atRest, after, now } = await backToRest(ctx, (s) => s.fds.length, rest);
      const grown = fdGrowth(rest.fds, after.fds);
      check(now <= atRest, `at most ${atRest} descriptors (the idle baseline) after ${sessions} sessions`,
        `${now} held: ${describeFdCounts(grown)} more than at rest`,
        { ...evidence, atRest: describeFdCounts(fdsByKind(rest)), now: describeFdCounts(fdsByKind(after)),
          heldBy: [...new Set(after.fds.filter((f) => grown.has(f.label)).map((f) => f.pid))].join(' ') });
      const absorbed = lazy.size ? `; the warm-up added ${describeFdCounts(lazy)} (created once, part of the baseline)` : '';
      return { message: `${atRest} descriptors at rest (${describeFdCounts(fdsByKind(rest))}), ${now} after ${sessions} sessions${absorbed}`, evidence };
    },
  },
  {
    id: 'resources.zombies',
    requirement: ['R7.3'],
    appliesTo: { models: 'all' },
    level: 'MUST',
    ...ON_THE_SESSION_MIX,
    title: 'no zombie in the tree after sequential sessions, nor after a burst of sessions ending at the same moment',
    description: SHARES_THE_MIX +
      'It looks for zombies in the server tree through /proc after the mix and again after the burst.',
    expectation: 'No zombie child of a process of the tree within (D + 3 s) × multiplier after the mix, and none within ' +
      '(D + 3 s) × multiplier after the burst.',
    why: 'Every unreaped child holds a slot in the process table. ' +
      'When the user\'s process limit is reached, fork() fails and the server starts no new session; ' +
      'children that end together are where the leak shows, because their SIGCHLD signals merge.',
    commonCauses: [
      'SIGCHLD handler that calls wait() once per signal',
      'waitpid() not looped with WNOHANG until it returns 0',
      'children reaped only in the accept loop, so they wait for the next client',
      'no SIGCHLD handler at all, or one reset after the first signal',
    ],
    async run(ctx) {
      const { afterMix, burst } = await ctx.exercised(sessionMixExercise);
      const zombieFree = (sample: TreeSample, when: string): void =>
        check(sample.zombies.length === 0, `no zombie ${when}`, `${sample.zombies.length} zombies`, { zombies: sample.zombies.slice(0, 8).map(describeProcess) });
      zombieFree(afterMix, 'after sequential sessions');
      zombieFree(await zombiesReaped(ctx), `after ${burst} sessions ended at once`);
    },
  },
  {
    id: 'resources.children',
    requirement: ['R7.2'],
    appliesTo: { models: 'all' },
    level: 'MUST',
    ...ON_THE_SESSION_MIX,
    title: 'the process count returns to its baseline; a process pool keeps exactly its N workers',
    description: SHARES_THE_MIX +
      'It then counts the processes of the server tree and, for a process pool, the direct children of the server process.',
    expectation: 'Within (D + 4 s) × multiplier after the last session, at most as many processes as at the idle baseline. ' +
      'A fork-per-connection server is back to the parent alone. ' +
      'A prefork or master-worker server with a declared worker count N has exactly N direct children.',
    why: 'A child that outlives its session holds memory and a process slot for nothing, and they add up until fork() fails. ' +
      'A pool whose worker count drifts no longer has the capacity its operators planned for.',
    commonCauses: [
      'child that misses the end of the stream and waits for ever',
      'fork-per-connection child that returns into the accept loop instead of exiting',
      'master that forks a replacement for a worker that did not die',
      'helper process started per session and never stopped',
    ],
    async run(ctx) {
      const { rest, evidence } = await ctx.exercised(sessionMixExercise);
      const { atRest, after, now } = await backToRest(ctx, (s) => s.processes.length, rest);
      check(now <= atRest, `at most ${atRest} processes (the idle baseline)`, `${now}`,
        { ...evidence, processes: after.processes.map(describeProcess) });
      if (MODEL_TRAITS[ctx.target.model].perSession === 'process') {
        check(now === 1, 'the parent alone once every connection (a process each) is over', `${now} processes`, { processes: after.processes.map(describeProcess) });
      }
      const pool = hasProcessPool(ctx.target.model) ? ctx.target.workers : undefined;
      if (pool !== undefined) {
        const workers = childrenOf(after, ctx.server.serverPid);
        check(workers.length === pool, `exactly ${pool} worker processes`, `${workers.length}`, { workers: workers.map(describeProcess) });
      }
      return { message: `${atRest} processes at rest` };
    },
  },
  {
    id: 'resources.threads',
    requirement: ['R7.4'],
    appliesTo: { models: 'all' },
    level: 'MUST',
    ...ON_THE_SESSION_MIX,
    title: 'the thread count returns to its baseline after sessions (or, for a cache of idle threads, holds steady), and no finished thread keeps its stack',
    description: SHARES_THE_MIX +
      'It then counts the threads of the server tree and the thread-stack mappings that belong to no live thread, through ' +
      '/proc.',
    expectation: 'Within (D + 4 s) × multiplier after the last session, at most as many threads as at the idle baseline ' +
      '(for a thread pool of L, L − 1 more: a pool may start its threads as work comes). ' +
      'Threads kept beyond that may be a cache of idle threads: the rounds and the burst then run again, and within the same time ' +
      'the count must be no higher than before (one more at most, a runtime\'s own). ' +
      'Fewer than 10 new stray thread stacks, counted from the end of the first round of the mix ' +
      '(over the 70 sessions that follow for an unbounded model, 5 + L for a bounded one), ' +
      'or no more stray stacks in any process than glibc\'s cache of freed stacks keeps (40 MiB: five of 8 MiB, twenty of 2 MiB).',
    why: 'A thread neither joined nor detached leaves its 8 MiB stack mapped when it ends. ' +
      'The thread count stays flat, so the leak hides, while each session adds a stack until pthread_create() fails and no new ' +
      'session can start.',
    commonCauses: [
      'pthread_create() without pthread_join() or pthread_detach()',
      'session thread that blocks for ever after its client left',
      'pool that starts a new thread per session instead of reusing its threads',
    ],
    async run(ctx) {
      const { rest, warm, sessions, evidence } = await ctx.exercised(sessionMixExercise);
      // A thread pool may start its threads as work comes (Java's newFixedThreadPool, Python's
      // ThreadPoolExecutor): the warm-up session started one, the mix may start the L − 1 others.
      const limit = ctx.target.limit;
      const lazyPool = MODEL_TRAITS[ctx.target.model].limit === 'pool' && !MODEL_TRAITS[ctx.target.model].processPool && limit !== 'unbounded' ? limit - 1 : 0;
      const { atRest, after, now } = await backToRest(ctx, (s) => s.threads, rest, undefined, lazyPool);
      const baseline = lazyPool > 0 ? `${atRest + lazyPool} threads (${atRest} at the idle baseline, and the ${lazyPool} more a pool of ${limit} may start as work comes)` : `${atRest} threads (the idle baseline)`;
      let kept = '';
      if (now > atRest + lazyPool) {
        // Threads that outlive their sessions may be a cache of idle ones (Java's newCachedThreadPool keeps
        // them 60 s): the same sessions run again then start no more. A leak grows with them. (Last of the
        // cases on the mix, this one may run more sessions on its server.)
        const rounds = mixRounds(ctx.target.limit);
        await exercise(ctx, rounds);
        const rerun = rounds * EVERY_END.length + (await burstEndingTogether(ctx));
        const again = await backToRest(ctx, (s) => s.threads, after, undefined, RUNTIME_THREAD_JITTER);
        check(again.now <= now + RUNTIME_THREAD_JITTER, `at most ${baseline}, or no more threads when the same sessions run again (a cache of idle threads)`,
          `${now} after the sessions, ${again.now} after ${rerun} of them ran again`,
          { ...evidence, perProcess: again.after.processes.map((p) => `${p.pid}(${p.comm}): ${p.threads}`) });
        kept = `; ${now - atRest} idle threads kept after the sessions, no more when ${rerun} of them ran again (a cache)`;
      }
      // A thread that ends unjoined and undetached leaves its stack mapped (8 MiB by default): the
      // thread count recovers, the stack mappings do not. glibc caches a few freed stacks; leaks grow per session.
      const strays = after.strayStacks - warm.strayStacks;
      const sinceWarm = sessions - EVERY_END.length;
      check(strays < STRAY_STACK_LIMIT || after.strayStacksFitCache,
        `fewer than ${STRAY_STACK_LIMIT} new thread stacks without a thread after ${sinceWarm} sessions, or no more than glibc's cache of freed stacks holds (40 MiB a process)`,
        `${strays} (${after.strayStacks} in all)`, { ...evidence, vsizeMiB: (after.vsizeBytes / MIB).toFixed(0) });
      const cached = strays >= STRAY_STACK_LIMIT ? ' (within glibc\'s 40 MiB cache of freed stacks)' : '';
      return { message: `${atRest} threads at rest${kept}; ${strays} stray thread stacks after ${sinceWarm} sessions${cached}` };
    },
  },
  {
    id: 'resources.close-wait', level: 'MUST', requirement: ['R4.3', 'R0.1'],
    appliesTo: { models: 'all' }, tags: ['procfs', 'processes', 'exclusive', 'slow'],
    exclusive: crowdsAreHeavy,
    title: 'no server socket is left in CLOSE_WAIT after the clients leave',
    description: 'Opens 10 clients (L for a bounded model); each sends one message and waits for its ack, then all close fully ' +
      'without "goodbye". It then watches the TCP sockets held by the server tree through /proc. ' +
      'A Unix socket has no CLOSE_WAIT: there it counts instead the session sockets the tree holds (its descriptors of ' +
      'sockets bound to the server\'s path, the listener aside), against their number before the clients connected.',
    expectation: 'No socket of the server tree in CLOSE_WAIT within (D + 3 s) × multiplier after the clients closed; ' +
      'over a Unix socket, no more session sockets than before the clients connected within that time.',
    why: 'Clients that vanish without goodbye are common. Each one whose socket the server never closes leaks a descriptor in ' +
      'CLOSE_WAIT, until the server hits its limit and refuses everyone.',
    commonCauses: [
      'read() returning 0 not followed by close()',
      'socket closed only on goodbye',
      'Node socket with allowHalfOpen: true and no end() on \'end\'',
      'session thread blocked elsewhere that never reads the socket again',
    ],
    async run(ctx) {
      const wave = ctx.target.limit === 'unbounded' ? 10 : ctx.target.limit;
      const before = sampleTree(ctx.server);
      const clients = await Promise.all(Array.from({ length: wave }, (_, i) => ctx.connect(`leaving ${i + 1}`)));
      await Promise.all(clients.map((c) => c.send('hello')));
      await Promise.all(clients.map((c) => c.waitForAcks(1, ctx.deadlines.firstAck(wave))));
      for (const c of clients) c.close(); // the clients leave without goodbye
      requireServer(ctx, 'while the clients left');
      const within = ctx.deadlines.close() + ctx.deadlines.slack();
      if (ctx.server.endpoint.path !== undefined) {
        // The server's sockets of connections whose clients have all left: what CLOSE_WAIT shows over TCP.
        const { atRest, after, now } = await backToRest(ctx, (s) => s.unixSessions.length, before, within);
        check(now <= atRest, `at most ${atRest} session sockets in the tree (as many as before the clients connected)`,
          `${now} still open after every client left`, { sockets: after.unixSessions.slice(0, 8).map(describeUnixSocket) });
        return;
      }
      const closeWait = (s: TreeSample) => s.tcpSockets.filter((h) => h.row.state === 'CLOSE_WAIT');
      let sample = sampleTree(ctx.server);
      await pollUntil(() => closeWait((sample = sampleTree(ctx.server))).length === 0, within, 50);
      check(closeWait(sample).length === 0, 'no socket of the tree in CLOSE_WAIT', `${closeWait(sample).length} in CLOSE_WAIT`,
        { sockets: closeWait(sample).slice(0, 8).map(describeSocket) });
    },
  },
  {
    id: 'resources.idle-cpu', level: 'MUST', requirement: ['R7.5'],
    appliesTo: { models: 'all' }, tags: ['procfs', 'processes', 'slow'],
    title: 'an idle server uses under 2% of a core (measured over 2 s)',
    description: 'Runs one warm-up session and waits until the sockets of the server tree hold still. ' +
      'Then, with no client connected, it reads the CPU time of every process of the tree through /proc over a 2 s window.',
    expectation: 'Under 2% of one core used by the whole tree over the 2 s window ' +
      '(a fixed window, not scaled by the multiplier).',
    why: 'A server that spins while idle burns a core on every host it runs on, all day long. ' +
      'It drains batteries, raises cloud bills and takes CPU from its neighbours on a shared host.',
    commonCauses: [
      'poll(), select() or epoll_wait() with a zero timeout in a loop',
      'loop around a non-blocking accept() or read() that retries at once',
      'very short periodic timer (e.g. every 1 ms) that polls a queue',
      'worker that spins on a shared queue instead of waiting on a condition variable',
    ],
    async run(ctx) {
      const evidence = await warmUp(ctx);
      await stableBaseline(ctx, heldConnections);
      const windowMs = 2000;
      const before = sampleTree(ctx.server);
      // A measurement window, not a wait for a condition: CPU use is only defined over time.
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      const after = sampleTree(ctx.server);
      const ticks = after.cpuTicks - before.cpuTicks;
      const share = cpuShare(before, after);
      check(share < 0.02, 'under 2% of a core while idle', `${(share * 100).toFixed(1)}% (${ticks} ticks in ${after.at - before.at} ms)`,
        { ...evidence, perProcess: ticksPerProcess(before, after) });
      return { message: `${(share * 100).toFixed(2)}% of a core while idle` };
    },
  },
  {
    id: 'resources.memory', level: 'SHOULD', requirement: ['R1.7'],
    appliesTo: { models: 'all' }, tags: ['procfs', 'processes', 'slow'],
    title: 'a 16 MiB stream without ETX gets the connection closed, and resident memory grows by less than 16 MiB',
    description: 'Runs a warm-up session, then opens a client that sends one short message and waits for its ack. ' +
      'Once the tree\'s resident memory holds still, the client writes 64 KiB chunks of "x" with no ETX, up to 16 MiB, while ' +
      'the kit samples that memory every 20 ms.',
    expectation: 'The connection closed by the server (FIN or RST) within (D + 2 s) × multiplier after the stream stops, and ' +
      'the resident memory of the tree never more than 16 MiB above the baseline. ' +
      'The stream stops at 16 MiB, at the close, or after (D + 7 s) × multiplier. ' +
      'A server that dies is reported as blocked, not failed. ' + UNIX_ENDS,
    why: 'One buggy or hostile client that never sends an ETX makes a server that buffers without limit grow until the ' +
      'out-of-memory killer ends it, and every other session dies with it.',
    commonCauses: [
      'message buffer that grows until an ETX arrives, with no maximum',
      'maximum message size checked only when an ETX is found',
      'over-long message discarded but the connection kept open',
      'read-until-delimiter helper used without a size limit',
    ],
    async run(ctx) {
      const evidence = await warmUp(ctx);
      // The session is set up (and answered once) before the baseline: a model that spends a process
      // or a thread per connection pays that at connect time, not for the endless message.
      const c = await ctx.connect('endless message');
      await c.send('first a short one');
      if (!(await c.waitForAcks(1, ctx.deadlines.ack(1)))) evidence.shortMessage = `not acked: ${describeReceived(c)}`;
      const baseline = await stableBaseline(ctx, (s) => s.rssBytes);
      const { sent, peak, ending } = await streamWithoutEtx(ctx.server, ctx.deadlines, c);
      const growth = Math.max(peak, baseline) - baseline;
      requireServer(ctx, 'under the endless message', evidence);
      check(ending.kind !== 'open', 'the connection closed by the server', `still open after ${(sent / MIB).toFixed(1)} MiB`, { ...evidence, peakGrowthMiB: (growth / MIB).toFixed(1) });
      check(growth < 16 * MIB, 'resident memory of the tree to grow by less than 16 MiB', `${(growth / MIB).toFixed(1)} MiB`,
        { ...evidence, baselineMiB: (baseline / MIB).toFixed(1), peakMiB: (peak / MIB).toFixed(1), sentMiB: (sent / MIB).toFixed(1) });
      return { message: `closed after ${(sent / MIB).toFixed(2)} MiB sent; memory grew ${(growth / MIB).toFixed(1)} MiB` };
    },
  },
];

