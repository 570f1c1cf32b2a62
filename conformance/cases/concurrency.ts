import { ProtocolClient } from '../harness/client';
import { pollUntil, waitUntilSettled } from '../harness/deadlines';
import { Target } from '../harness/target';
import { crowdsAreHeavy } from '../harness/models';
import { CaseBlocked, CaseContext, ConformanceCase, Exercise, check, checkInTime } from './types';
import { onPath, readListenBacklog } from '../harness/listen-backlog';
import { clientEvidence, connectionName, describeReceived, stillWaiting, UNIX_ENDS } from './evidence';
import { earlyAckTolerance } from './protocol';
import { AtOnce, atOnceEvidence, canJudgeParallelism, conclusivelyShort, JUDGED_DELAY_MS, judgingDelay, measureAtOnce, notJudged, servedOneByOne, timedReliably } from './parallelism';

/**
 * The smallest listen backlog that holds a burst of clients while the server is busy: 64, the crowd the
 * unbounded models are held to (Node's default is 511, SOMAXCONN 4096; Python's socketserver uses 5).
 */
export const MIN_BACKLOG = 64;

/** One timed round of lock-step messages. */
interface TimedRound {
  /** from the first send to the last ack */
  wallMs: number;
  /** the shortest time from a message to its ack */
  quickestAckMs: number;
  /** every ack, ms after the first send */
  acksAfterMs: number[];
}

/**
 * `n` clients send `messages` lock-step messages each, then goodbye. A client short of its acks is a
 * failure.
 */
async function timedRound(ctx: CaseContext, n: number, messages: number): Promise<TimedRound> {
  const clients = await Promise.all(Array.from({ length: n }, (_, i) => ctx.connect(`timed ${i + 1}`)));
  const start = Date.now();
  let quickestAckMs = Infinity;
  await Promise.all(
    clients.map(async (c) => {
      for (let m = 1; m <= messages; m++) {
        const sentAt = Date.now();
        await c.send(`m${m}`);
        await c.waitForAcks(m, ctx.deadlines.ack(n * messages));
        const ackedAt = c.ackTimes()[m - 1];
        if (ackedAt !== undefined) quickestAckMs = Math.min(quickestAckMs, ackedAt - sentAt);
      }
      await c.send('goodbye');
    }),
  );
  const wallMs = Date.now() - start;
  const served = clients.filter((c) => c.acks === messages).length;
  check(served === n, `every timed client acked ${messages} times`, `${served} of ${n} were`, {});
  const acksAfterMs = clients.flatMap((c) => c.ackTimes()).map((t) => t - start).sort((a, b) => a - b);
  return { wallMs, quickestAckMs, acksAfterMs };
}

/** Lock-step messages each client of concurrency.timing sends. */
export const TIMED_MESSAGES = 3;

/** Sessions held open at once by concurrency.limit for an unbounded model (it must serve them all). */
export const UNBOUNDED_PROBE = 64;

/** How many sessions concurrency.limit holds open: one more than the declared limit. */
export function sessionsToHold(target: Target): number {
  return (target.limit === 'unbounded' ? UNBOUNDED_PROBE : target.limit) + 1;
}

export interface HeldSessions {
  clients: ProtocolClient[];
  /** sessions acked: admitted to service */
  served: ProtocolClient[];
  waiting: ProtocolClient[];
}

/**
 * Opens L+1 sessions, sends one message on each, keeps them all open, and counts who gets acked.
 * The measuring window stays open while acks keep coming (a slow server is not mistaken for a
 * bounded one) and closes early once every session is served. Once the count is what the declared
 * limit promises, a short window (a delay plus the quiet window) is enough to see that nobody else is
 * admitted; short of it, the server gets the full answer allowance: only a broken server waits it out.
 */
export async function holdSessions(ctx: CaseContext): Promise<HeldSessions> {
  const n = sessionsToHold(ctx.target);
  const clients: ProtocolClient[] = [];
  for (let i = 0; i < n; i++) clients.push(await ctx.connect(`session ${i + 1}`));
  await Promise.all(clients.map((c, i) => c.send(`hold ${i + 1}`)));
  const servedCount = (): number => clients.filter((c) => c.acks > 0).length;
  // First wait for the first ack (set-up of a process per connection can take a while on a busy
  // machine); from then on the window stays open as long as acks keep coming.
  const firstAck = ctx.deadlines.firstAck(n);
  await pollUntil(() => servedCount() > 0, firstAck);
  const promised = ctx.target.limit === 'unbounded' ? n : ctx.target.limit;
  const enough = ctx.deadlines.quiet() + ctx.deadlines.delayMs;
  const allowance = ctx.deadlines.ack(2);
  await waitUntilSettled(servedCount, (served) => (served >= promised ? enough : allowance), firstAck, 10, () => servedCount() === n);
  // Short of the promise, the count may be load's doing: a process per connection gets no CPU to start
  // among other cases. The kit waits on with the machine alone before it counts.
  if (servedCount() < promised) await ctx.alone(() => waitUntilSettled(servedCount, () => allowance, firstAck, 10, () => servedCount() >= promised));
  const served = clients.filter((c) => c.acks > 0);
  return { clients, served, waiting: clients.filter((c) => c.acks === 0) };
}

/** What the held crowd showed: who was admitted, and how many of them were then served at the same time. */
export interface HeldCrowd {
  held: HeldSessions;
  /** round 2 (undefined where parallelism cannot be judged, or nobody was admitted) */
  atOnce?: AtOnce;
  /** round 2 as first measured among other cases, when it fell short and was measured again alone */
  amongNeighbours?: AtOnce;
}

/** Sessions served at the same time that keep a target's promise. */
function promisedAtOnce(target: Target): number {
  return target.limit === 'unbounded' ? UNBOUNDED_PROBE : target.limit;
}

/**
 * L+1 sessions held open (see holdSessions), then the admitted ones send again at one moment (see
 * measureAtOnce). concurrency.limit judges both rounds; limit.waiting-served then frees a slot.
 */
export const heldCrowd: Exercise<HeldCrowd> = {
  id: 'held crowd',
  async run(ctx) {
    const held = await holdSessions(ctx);
    const judged = canJudgeParallelism(ctx.deadlines.delayMs, ctx.deadlines.multiplier);
    if (!judged || held.served.length === 0) return { held };
    const d = ctx.deadlines.delayMs;
    const promise = promisedAtOnce(ctx.target);
    const amongNeighbours = await measureAtOnce(ctx, held.served);
    // Neighbours' load delays acks; a kit stalled meanwhile times them late. Either way the measurement
    // among neighbours is kept only when it meets the promise and the kit kept time; otherwise it is
    // made again with the machine alone, twice if need be (sessions idle while the lock was awaited
    // wake slowly), and the better one is judged: each count is a lower bound.
    if (amongNeighbours.count >= promise && timedReliably(amongNeighbours, d)) return { held, atOnce: amongNeighbours };
    // Serial service, or none at all, is no effect of load: the machine alone would show the same.
    if (conclusivelyShort(amongNeighbours, d)) return { held, atOnce: amongNeighbours };
    const atOnce = await ctx.alone(async () => {
      const first = await measureAtOnce(ctx, held.served);
      if (first.count >= promise && timedReliably(first, d)) return first;
      return betterMeasurement(first, await measureAtOnce(ctx, held.served), d);
    });
    return { held, atOnce, amongNeighbours };
  },
};

/** Of two measurements, the one the kit timed reliably, else the one that counted more. */
function betterMeasurement(a: AtOnce, b: AtOnce, delayMs: number): AtOnce {
  if (timedReliably(a, delayMs) !== timedReliably(b, delayMs)) return timedReliably(a, delayMs) ? a : b;
  return b.count > a.count ? b : a;
}

/**
 * The delay a held crowd is judged at. A process per session of a heavy runtime takes a few hundred
 * ms to wake on a busy 2-core machine, and acks count only while they beat a second delay.
 */
export const HEAVY_CROWD_JUDGING_DELAY_MS = 500;

function crowdJudgingDelay(t: Target, multiplier: number): number | undefined {
  if (!(crowdsAreHeavy(t) && t.limit === 'unbounded')) return judgingDelay(t.delayMs, multiplier);
  const wanted = Math.ceil(HEAVY_CROWD_JUDGING_DELAY_MS * multiplier);
  return t.delayMs >= wanted ? undefined : wanted;
}

function limitEvidence(held: HeldSessions, ctx: CaseContext): Record<string, unknown> {
  const firstAcks = held.served.map((c) => c.arrivals[0]?.at).filter((t) => t !== undefined).sort((a, b) => a - b);
  const closed = held.clients.filter((c) => c.ending).map((c) => `${connectionName(c)}:${c.ending?.kind}`);
  return {
    sessionsHeld: held.clients.length,
    admitted: held.served.length,
    firstAckAfterMs: firstAcks.length ? `${firstAcks[0]}..${firstAcks[firstAcks.length - 1]}` : 'none',
    closedByServer: closed.length ? closed.join(' ') : 'none',
    declaredLimit: ctx.target.limit,
  };
}


/** concurrency.*: the server serves exactly as many sessions at once as its model promises. */
export const concurrencyCases: ConformanceCase[] = [
  {
    id: 'concurrency.limit', level: 'MUST', requirement: ['R6.1'],
    appliesTo: { models: 'all' }, tags: [],
    samplesAcceptQueue: true,
    // Judged on ack timing: a measurement that neighbours may have spread is made again alone.
    delayOverride: crowdJudgingDelay,
    exercise: heldCrowd,
    title: 'with L+1 sessions held open, exactly L are served at the same time (at least 64 for unbounded models)',
    description: 'Opens L + 1 sessions (65 for an unbounded model) one after another; ' +
      'each then sends one message at the same moment, and the case counts the sessions acked. ' +
      'The acked sessions then each send one more message at the same moment, and the case times those acks to count how many ' +
      'were worked at the same time.',
    expectation: 'Bounded limit L: exactly L sessions acked (the other waits), and exactly L served at the same time. ' +
      'Unbounded: at least 64 of the 65 acked, and at least 64 served at the same time. ' +
      '"At the same time" is the larger of two counts: the acks that arrive before 2 × (D - max(5 ms, D / 20)) after the send ' +
      '(when the first ack honours D), and the most acks within D / 2 of each other. ' +
      'For the n held sessions, first acks are awaited up to (D + 1 s × (1 + ceil(n / 8))) × multiplier, and counted while ' +
      'more keep coming. Where the command takes {delayMs}, a D under 100 ms × multiplier is raised to 200 ms × multiplier, ' +
      'and a fork-per-connection server that starts a whole interpreter per session runs at 500 ms × multiplier at least; ' +
      'without {delayMs}, a D under 100 ms × multiplier is judged on the acked count only.',
    why: 'The limit is what capacity plans are built on. A pool that serves fewer sessions than promised ' +
      '(a lock, one busy worker) makes users wait in a queue the plan said would not exist; ' +
      'one that serves more has no bound and falls over under load instead of queueing.',
    commonCauses: [
      'lock (mutex, synchronized block, global lock) held around the work, so the slots take turns',
      'blocking sleep or blocking I/O in an event-loop handler',
      'pool size not taken from the declared workers (hard-coded, or off by one)',
      'a thread or process started per connection on top of the pool, so more than L are served',
      'accept loop that serves each session to its end before accepting the next',
    ],
    async run(ctx) {
      // Round 1 admits: each held session sends a message and waits for its first ack. Round 2 times:
      // the admitted sessions, all set up and idle, send again at one moment; those acked before a second
      // work delay could end were served at the same time. Serial work (a lock, a blocked event loop)
      // admits everyone yet acks them a whole delay apart.
      const { held, atOnce, amongNeighbours } = await ctx.exercised(heldCrowd);
      const limit = ctx.target.limit;
      const evidence = limitEvidence(held, ctx);
      const wanted = limit === 'unbounded' ? `at least ${UNBOUNDED_PROBE}` : `exactly ${limit}`;
      const judged = canJudgeParallelism(ctx.deadlines.delayMs, ctx.deadlines.multiplier);
      if (amongNeighbours) evidence.amongNeighbours = `${amongNeighbours.summary}; measured again with the machine alone`;
      if (atOnce && !timedReliably(atOnce, ctx.deadlines.delayMs)) {
        throw new CaseBlocked(`the kit went ${atOnce.kitStalledMs} ms without a turn while timing the acks, even with the machine alone: served at the same time could not be measured`, [], evidence);
      }
      if (atOnce) {
        Object.assign(evidence, atOnceEvidence(atOnce));
        const ok = limit === 'unbounded' ? atOnce.count >= UNBOUNDED_PROBE : atOnce.count === limit;
        check(ok, `${wanted} of ${held.clients.length} open sessions served at the same time`, atOnce.summary, evidence);
      }
      if (limit === 'unbounded') {
        check(held.served.length >= UNBOUNDED_PROBE, `at least ${UNBOUNDED_PROBE} of ${held.clients.length} open sessions served`,
          `${held.served.length} served`, evidence);
      } else {
        check(held.served.length === limit, `exactly ${limit} of ${held.clients.length} open sessions served, the others waiting`,
          `${held.served.length} served`, evidence);
      }
      // Served at the same time where judged; otherwise only admitted.
      const count = atOnce?.count ?? held.served.length;
      const measured = count >= held.clients.length ? `≥ ${count}` : `${count}`;
      return {
        message: `measured limit ${measured}${judged ? '' : ` (${notJudged(ctx.target)})`}`, evidence,
        measurements: { servedAtOnce: { count, held: held.clients.length } },
      };
    },
  },
  {
    id: 'concurrency.limit.waiting-served', level: 'MUST', requirement: ['R6.2'],
    appliesTo: { models: 'bounded', because: 'no client of an unbounded model ever waits for a slot' }, tags: [],
    samplesAcceptQueue: true,
    title: 'the client beyond the limit is served as soon as a slot frees',
    description: 'Bounded models only. Shares the L + 1 sessions of concurrency.limit, where L are served and one waits with ' +
      'its message sent. One served session then sends "goodbye" to free its slot.',
    expectation: 'At least one session still waiting before the goodbye, and a waiting session acked within ' +
      '(3 × D + 4 s) × multiplier of the goodbye: the allowance for two acks (2 × D + 2 s) plus the close allowance (D + 2 s), ' +
      'both × multiplier.',
    why: 'In a peak of load, clients beyond the pool must queue, not fail. ' +
      'A pool that drops them turns a short peak into errors, and one that forgets its queue leaves them connected and ' +
      'unanswered until they time out.',
    commonCauses: [
      'connections beyond the pool closed or reset instead of queued',
      'slot not released on goodbye (busy count not decremented, worker not returned to the pool)',
      'worker that exits after one session instead of taking the next',
      'queue not signalled when a slot frees (missing condition-variable notify)',
    ],
    delayOverride: crowdJudgingDelay,
    exercise: heldCrowd,
    async run(ctx) {
      const { held } = await ctx.exercised(heldCrowd);
      check(held.waiting.length >= 1, 'one session waiting beyond the limit', `${held.waiting.length} waiting`, limitEvidence(held, ctx));
      const freed = held.served[0];
      check(freed !== undefined, 'at least one session served', 'none served', limitEvidence(held, ctx));
      await freed.send('goodbye');
      const deadline = ctx.deadlines.ack(2) + ctx.deadlines.close();
      await pollUntil(() => held.waiting.some((c) => c.acks > 0), deadline);
      const late = held.waiting.find((c) => c.acks > 0);
      check(late !== undefined, `a waiting session served within ${deadline} ms after one session said goodbye`,
        `still waiting: ${held.waiting.map((c) => describeReceived(c)).join(', ')}`,
        { ...limitEvidence(held, ctx), freedSession: clientEvidence(freed) });
    },
  },
  {
    id: 'concurrency.burst', level: 'MUST', requirement: ['R6.3', 'R3.2', 'R0.1'],
    appliesTo: { models: 'all' }, tags: ['exclusive'],
    samplesAcceptQueue: true,
    exclusive: crowdsAreHeavy,
    title: 'a burst of simultaneous clients is fully served: nobody dropped, everybody acked and closed with FIN',
    description: 'Opens n clients at the same moment: 100 for an unbounded model, min(100, 2 × L + 3) for a limit L. ' +
      'Each writes one message and "goodbye" in a single write and waits for the server to close.',
    expectation: 'Every client connects (within 8 s × multiplier) and receives exactly one "ack", then a FIN, within ' +
      '(ceil(n / L) × D + 2 s) × multiplier + (D + 1 s × (1 + ceil(L / 8))) × multiplier; ' +
      'for an unbounded model, (D + 2 s) × multiplier + (D + 14 s) × multiplier. ' +
      'Against a fork-per-connection server that starts a whole interpreter per session, a client still waiting for its ack ' +
      'or its FIN gets that time again. ' + UNIX_ENDS + ' A connect to a Unix socket whose backlog is full fails at once with ' +
      'EAGAIN, where a TCP client would retry its SYN: that client is not served.',
    why: 'Bursts come after a restart, a network outage, or at the top of the minute when cron jobs fire. ' +
      'A server that drops some of those clients, or leaves them to SYN retries seconds apart, fails exactly when load is ' +
      'highest.',
    commonCauses: [
      'listen backlog smaller than the burst (e.g. listen(fd, 5))',
      'accept loop that takes one connection per readiness event',
      'fork() or pthread_create() failure under load that closes the connection',
      'EAGAIN or EMFILE from accept() treated as fatal',
      'close with unread input or SO_LINGER 0, which sends RST instead of FIN',
    ],
    async run(ctx) {
      const limit = ctx.target.limit;
      // A bounded server shows the same with a few more clients than it serves (the rest wait their turn
      // in the accept queue or its own); a hundred would only cost a hundred delays.
      const n = limit === 'unbounded' ? 100 : Math.min(100, 2 * limit + 3);
      const rounds = limit === 'unbounded' ? 1 : Math.ceil(n / limit);
      const deadline = ctx.deadlines.ack(rounds) + ctx.deadlines.firstAck(limit === 'unbounded' ? n : limit);
      // A connect that takes a second or more had its SYN dropped and retransmitted: the accept queue
      // was full (a small listen backlog, or a server slow to accept). Said in the evidence.
      let slowConnects = 0;
      let late = 0; // clients still waiting, with nothing wrong received, on a live server (see CaseLate)
      const outcomes = await Promise.all(
        Array.from({ length: n }, async (_, i) => {
          try {
            const connectStart = Date.now();
            const c = await ctx.connect(`burst ${i + 1}`);
            if (Date.now() - connectStart >= 900 && c.unixPath === undefined) slowConnects++;
            await c.write(Buffer.from(`burst ${i + 1}\x03goodbye\x03`, 'latin1'));
            let ending = await c.waitForClose(deadline);
            // A process started per connection (a whole interpreter) can take seconds each to come up
            // when a hundred start at once on a small machine: a client still waiting for its ack or its
            // FIN on a live server gets the same time again. A dropped or reset client is judged as it is.
            if (ending.kind === 'open' && crowdsAreHeavy(ctx.target) && ctx.server.serverAlive()) {
              ending = await c.waitForClose(deadline);
            }
            if (c.text === 'ack' && ending.kind === 'fin') return 'ok';
            if (stillWaiting(c, ctx.server)) late++;
            return describeReceived(c);
          } catch (err) {
            return `connect failed: ${(err as Error).message}`;
          }
        }),
      );
      const bad = outcomes.filter((o) => o !== 'ok');
      const syn = slowConnects > 0 ? { slowConnects: `${slowConnects} of ${n} connects took ≥ 1 s (SYN retransmitted: the accept queue was full; is the listen backlog small? see concurrency.backlog)` } : {};
      const within = crowdsAreHeavy(ctx.target) ? `${deadline} ms (twice that for a client still waiting: a process per connection is slow to start)` : `${deadline} ms`;
      const expected = `all ${n} clients acked once and closed with FIN within ${within}`;
      const evidence = { examples: [...new Set(bad)].slice(0, 5).join(' | '), ...syn };
      if (bad.length > 0 && late === bad.length) checkInTime(false, expected, `${bad.length} of ${n} were still waiting`, evidence);
      check(bad.length === 0, expected, `${bad.length} of ${n} were not`, evidence);
      return { message: `${n} simultaneous clients served` };
    },
  },
  {
    id: 'concurrency.backlog', level: 'SHOULD', requirement: ['R6.5'],
    appliesTo: { models: 'all' }, tags: [],
    title: `the listen backlog holds at least ${MIN_BACKLOG} connections`,
    description: 'Reads the backlog of the server\'s listening socket on its port with ss -ltn (the Send-Q column), the ' +
      'smallest when IPv4 and IPv6 both listen. It opens no client. ' +
      'Over a Unix socket it reads the listener on the server\'s path with ss -xl, which shows its backlog the same way.',
    expectation: 'A listen backlog of at least 64. The case is skipped when ss (iproute2) is not installed.',
    why: 'Clients that connect while the server is busy wait in the accept queue. ' +
      'When it is full, Linux drops their SYNs and they retry 1 s, 3 s and 7 s later, so a burst of users sees stalls of ' +
      'seconds for nothing. Over a Unix socket a full backlog makes connect() fail at once with EAGAIN (or block, on a ' +
      'blocking socket): the burst\'s clients get errors instead.',
    commonCauses: [
      'listen(fd, 5) or another small constant',
      'Python socketserver\'s default request_queue_size of 5',
      'backlog set to the pool size or the worker count',
      'net.core.somaxconn below 64, which caps any backlog',
    ],
    skipReason: () => (onPath('ss') ? undefined : 'ss (iproute2) is not installed: the backlog is only visible through sock_diag, which ss reads'),
    async run(ctx) {
      // Clients that arrive while the server is busy wait in the accept queue, whose length the backlog
      // caps. Beyond it the kernel drops their SYNs, and each retries after 1 s, then 3 s, 7 s: a burst
      // of clients (a reconnect storm, a load balancer's health checks) waits seconds for nothing.
      const { path } = ctx.server.endpoint;
      const read = readListenBacklog(path !== undefined ? { path } : { port: ctx.server.port });
      if (!read) throw new CaseBlocked(`ss shows no listening socket on ${path ?? `port ${ctx.server.port}`}`, ['lifecycle.ready']);
      const evidence = { listenBacklog: read.backlog, acceptQueueNow: read.queued };
      check(read.backlog >= MIN_BACKLOG, `a listen backlog of at least ${MIN_BACKLOG}`, `${read.backlog}`, evidence);
      return { message: `listen backlog ${read.backlog}`, evidence };
    },
  },
  {
    id: 'concurrency.timing', level: 'MUST', requirement: ['R6.4', 'R2.3'],
    appliesTo: { models: 'all' }, tags: [],
    samplesAcceptQueue: true,
    // Judged among neighbours: their load only slows a round, so a round faster than the work is a
    // verdict wherever it was timed, and one slower than the ceiling is timed again alone (unless its
    // acks came one a delay after another: serial service, not load). The round's sessions are fresh, so
    // an interpreter started per session is timed too: under CPU hogs that took 1.2 s of a 1.8 s ceiling.
    delayOverride: crowdJudgingDelay,
    skipReason: (t) => (t.delayMs < JUDGED_DELAY_MS && !t.cmd.includes('{delayMs}') ? notJudged(t) : undefined),
    title: 'L+1 clients (5 for unbounded models) × 3 lock-step messages take the time the declared limit implies: nearer that than serial service, never faster than the work',
    description: 'Opens n clients: L + 1 for a limit L, 5 for an unbounded model. ' +
      'Each sends three messages in lock-step, each after the previous ack, then "goodbye". ' +
      'It times the whole round and every ack.',
    expectation: 'Every client gets its three acks, each within (3 × n × D + 2 s) × multiplier and none sooner than D less ' +
      'max(5 ms, ceil(D / 10)). The round takes at least ceil(n / L) × 3 × D less D / 2 (3 × D less D / 2 when unbounded). ' +
      'Where that implied time is shorter than serial service, n × 3 × D, the round takes at most halfway between the two; ' +
      'a round over that ceiling whose acks did not come one D apart is timed again with the machine alone. ' +
      'Where the command takes {delayMs}, a D under 100 ms × multiplier is raised to 200 ms × multiplier, ' +
      'and a fork-per-connection server that starts a whole interpreter per session runs at 500 ms × multiplier at least; ' +
      'without {delayMs}, the case is skipped when D is under 100 ms.',
    why: 'This is the latency users feel. A server that accepts many clients but works their requests one at a time behind a ' +
      'shared lock passes every single-client test, then answers n clients in n times the expected time.',
    commonCauses: [
      'lock shared by all sessions held around the work',
      'blocking sleep in an event-loop handler',
      'ack written before the work is done',
      'fewer workers started than declared',
    ],
    async run(ctx) {
      // One client more than the limit makes a second wave; more clients would only add serial delays.
      const limit = ctx.target.limit;
      const n = limit === 'unbounded' ? 5 : limit + 1;
      const messages = TIMED_MESSAGES;
      const d = ctx.deadlines.delayMs;
      // Each client's messages take `messages` delays; a limit of L serves the clients in ceil(n/L) waves.
      const waves = limit === 'unbounded' ? 1 : Math.ceil(n / limit);
      const expected = waves * messages * d;
      const serial = n * messages * d;
      const parallel = messages * d;
      const ceiling = expected < serial ? (expected + serial) / 2 : undefined;
      let round = await timedRound(ctx, n, messages);
      const evidence: Record<string, unknown> = { clients: n, messagesEach: messages, expectedMs: expected, serialMs: serial, parallelMs: parallel };
      // Acks one a delay after another are serial service, not load: no second look needed.
      if (ceiling !== undefined && round.wallMs > ceiling && !servedOneByOne(round.acksAfterMs, d)) {
        evidence.amongNeighboursMs = round.wallMs;
        round = await ctx.alone(() => timedRound(ctx, n, messages));
      }
      const wall = round.wallMs;
      Object.assign(evidence, { wallMs: wall, quickestAckMs: round.quickestAckMs });
      const summary = `${wall} ms for ${n * messages} messages (${(wall / parallel).toFixed(1)}× the fully parallel ${parallel} ms; serial would take ${serial} ms)`;
      // No faster than the work: each lock-step message needs a whole delay, and the round as many in a
      // row as the waves imply. Load cannot make either shorter.
      const tolerance = earlyAckTolerance(d);
      check(round.quickestAckMs >= d - tolerance, `each ack at least ${d - tolerance} ms after its message (the work delay less ${tolerance} ms)`,
        `an ack ${round.quickestAckMs} ms after its message; ${summary}`, evidence);
      const floor = expected - d / 2;
      check(wall >= floor, `at least ${floor} ms (the work of ${expected / d} delays in a row, less half a delay)`, summary, evidence);
      if (ceiling !== undefined) {
        check(wall <= ceiling, `at most ${ceiling} ms (halfway from the ${expected} ms a limit of ${limit} takes to the ${serial} ms of serial service)`,
          summary, evidence);
      }
      return { message: summary, evidence };
    },
  },
];
