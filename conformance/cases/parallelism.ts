import { ProtocolClient } from '../harness/client';
import { pollUntil } from '../harness/deadlines';
import { Target } from '../harness/target';
import { CaseContext } from './types';

/**
 * The shortest work delay (before the timeout multiplier) at which service at the same time can be told
 * from service one after another: parallel acks land within half a delay of each other, serial ones a
 * whole delay apart, and a busy 2-core machine can add tens of milliseconds of scheduling noise.
 */
export const JUDGED_DELAY_MS = 100;
/** The work delay the judging cases run at when the declared one is shorter and the command takes `{delayMs}`. */
export const JUDGING_DELAY_MS = 200;

/** True when acks `delayMs` apart stand out from scheduling noise. */
export function canJudgeParallelism(delayMs: number, multiplier: number): boolean {
  return delayMs >= JUDGED_DELAY_MS * multiplier;
}

/** The delay to run a judging case at instead of the declared one, or undefined to keep it. */
export function judgingDelay(delayMs: number, multiplier: number): number | undefined {
  return canJudgeParallelism(delayMs, multiplier) ? undefined : Math.ceil(JUDGING_DELAY_MS * multiplier);
}

/** What a case says when it cannot judge parallelism (a short delay and no `{delayMs}` to lengthen it). */
export function notJudged(target: Target): string {
  return `parallelism not judged: a ${target.delayMs} ms work delay cannot tell parallel from serial service ` +
    `(give the command {delayMs} and the kit runs this case at ${JUDGING_DELAY_MS} ms)`;
}

/** How many of the messages sent at one moment were worked at the same time, from their acks' arrival. */
export interface AtOnce {
  /** the sessions served at the same time: the larger of the two lower bounds (see servedAtOnce) */
  count: number;
  /** sessions that sent a message */
  of: number;
  /** how long after the send an ack counts as beating a second delay */
  windowMs: number;
  /** ms from the send to each ack that arrived, sorted */
  acksAfterMs: number[];
  /** one line for a person: "5 served at the same time (…)" or "served 1 at a time: acks 200 ms apart" */
  summary: string;
  /** the longest the kit itself went without a turn while timing (acks read late are timed late) */
  kitStalledMs?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)];
}

/** How early a server's timer may fire (timers round to the millisecond and clocks tick coarsely). */
function timerSlack(delayMs: number): number {
  return Math.max(5, delayMs / 20);
}

/** The most of the sorted times that fit in one window of `spanMs`: where it starts, how many. */
function densest(sorted: number[], spanMs: number): { from: number; count: number } {
  let best = { from: 0, count: 0 };
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j] - sorted[i] > spanMs) i++;
    if (j - i + 1 > best.count) best = { from: i, count: j - i + 1 };
  }
  return best;
}

/**
 * Judges acks of messages all sent at `sentAt`. A slot works one message for a whole delay, so two
 * bounds hold however loaded the machine is, and the count is the larger:
 * - no slot finishes two messages before two delays have passed since the send: every ack in by then
 *   was worked at the same time as the others, however late the machine let each out;
 * - no slot finishes two messages within half a delay: acks that close together were worked at the
 *   same time, even by a server still busy with earlier work when they were sent.
 * Serial work (a lock, a blocked event loop) puts each ack a whole delay after the one before. A server
 * that answers sooner than its delay gives neither bound; then half its own answer time stands in.
 */
export function servedAtOnce(sentAt: number, ackTimes: number[], of: number, delayMs: number): AtOnce {
  const after = ackTimes.map((t) => t - sentAt).sort((a, b) => a - b);
  const slack = timerSlack(delayMs);
  const honoursDelay = after.length > 0 && after[0] >= delayMs - slack;
  const windowMs = honoursDelay ? 2 * (delayMs - slack) : 0;
  const beforeSecond = after.filter((t) => t < windowMs).length;
  const close = densest(after, honoursDelay || after.length === 0 ? delayMs / 2 : after[0] / 2);
  const count = Math.max(beforeSecond, close.count);
  const gaps = after.slice(1).map((t, i) => t - after[i]);
  let summary: string;
  if (after.length === 0) summary = `no ack for any of the ${of} messages sent at once (each session's second)`;
  else if (count === 1 && after.length > 1) summary = `served 1 at a time: acks ${median(gaps)} ms apart`;
  else if (beforeSecond >= close.count) summary = `${count} served at the same time (acked ${after[0]}..${after[count - 1]} ms after the send, before a second delay could end)`;
  else summary = `${count} served at the same time (acks within ${after[close.from + count - 1] - after[close.from]} ms of each other)`;
  if (after.length > 0 && !honoursDelay) summary += `; acked sooner than the ${delayMs} ms delay`;
  return { count, of, windowMs, acksAfterMs: after, summary };
}

/**
 * Every session in `sessions` (each served already, idle, holding its slot) sends one more message at
 * the same moment; the kit waits for all acks, or, once the first is in, long enough to see whether the
 * rest trickle in one work delay apart. The sessions stay open.
 */
export async function measureAtOnce(ctx: CaseContext, sessions: ProtocolClient[]): Promise<AtOnce> {
  const d = ctx.deadlines.delayMs;
  const before = sessions.map((c) => c.acks);
  const stalls = watchStalls();
  try {
    const sentAt = Date.now();
    await Promise.all(sessions.map((c, i) => c.send(`at once ${i + 1}`)));
    const arrived = (): number[] => sessions.flatMap((c, i) => c.ackTimes().slice(before[i], before[i] + 1));
    await pollUntil(() => {
      const times = arrived();
      return times.length === sessions.length || (times.length > 0 && Date.now() >= Math.min(...times) + 2.5 * d);
    }, ctx.deadlines.firstAck(sessions.length));
    return { ...servedAtOnce(sentAt, arrived(), sessions.length, d), kitStalledMs: stalls.stop() };
  } finally {
    stalls.stop(); // a send that threw must not leave the watch ticking (an open handle for ever)
  }
}

/** The longest the kit's event loop went without a turn, as seen by a 10 ms timer, until stop(). */
export function watchStalls(): { stop(): number } {
  let last = Date.now();
  let longest = 0;
  const timer = setInterval(() => {
    const now = Date.now();
    longest = Math.max(longest, now - last - 10);
    last = now;
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(longest, Date.now() - last - 10, 0);
    },
  };
}

/**
 * Whether a measurement of acks' arrival can be trusted: an ack is timed when the kit reads it, so a
 * kit that went without a turn for a quarter of a delay may have timed acks late (too few counted) or,
 * for a server quicker than its delay, read acks apart as one batch.
 */
export function timedReliably(m: AtOnce, delayMs: number): boolean {
  return (m.kitStalledMs ?? 0) < delayMs / 4;
}

/**
 * Acks that came one at a time, each most of a delay after the one before: serial service, whatever
 * the load. Load delays acks or bunches them; it does not space three or more a delay apart.
 */
export function servedOneByOne(acksAfterMs: number[], delayMs: number): boolean {
  const sorted = [...acksAfterMs].sort((a, b) => a - b);
  return sorted.length >= 3 && sorted.slice(1).every((t, i) => t - sorted[i] >= 0.8 * delayMs);
}

/**
 * A measurement that falls short of the promise yet needs no second look with the machine alone: no
 * ack at all within the answer allowance, or acks one a delay after another (see servedOneByOne).
 */
export function conclusivelyShort(m: AtOnce, delayMs: number): boolean {
  return timedReliably(m, delayMs) && (m.acksAfterMs.length === 0 || servedOneByOne(m.acksAfterMs, delayMs));
}

/** Evidence of a measurement, for reports. */
export function atOnceEvidence(m: AtOnce): Record<string, unknown> {
  const shown = m.acksAfterMs.length > 12 ? [...m.acksAfterMs.slice(0, 12), '…'] : m.acksAfterMs;
  const spread = m.count > 0 ? m.acksAfterMs[m.count - 1] - m.acksAfterMs[0] : undefined;
  return { servedAtOnce: m.count, sentAtOnce: m.of, countedWithinMs: m.windowMs, ...(spread !== undefined ? { sameTimeSpreadMs: spread } : {}), acksAfterMs: shown.join(' '),
    ...(m.kitStalledMs ? { kitStalledMs: m.kitStalledMs } : {}) };
}
