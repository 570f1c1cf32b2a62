import pWaitFor = require('p-wait-for');

/**
 * Every deadline of the kit derives from the target's declared work delay and one global multiplier,
 * so a slow machine is handled by raising one number (`--timeout-multiplier` / `SM_TIMEOUT_MULTIPLIER`).
 */
export interface Deadlines {
  readonly delayMs: number;
  readonly multiplier: number;
  /** Time within which `messages` acks, worked one after the other, must all have arrived. */
  ack(messages?: number): number;
  /**
   * Time within which each of `sessions` sessions started at the same moment gets its first ack: a
   * model that pays a process or a thread per connection needs set-up time that grows with the crowd.
   */
  firstAck(sessions: number): number;
  /** Time within which a connection must be closed once nothing more is owed. */
  close(): number;
  /** A window in which nothing must happen (no ack before ETX, nothing after goodbye). */
  quiet(): number;
  /**
   * How long a count (descriptors, processes, threads) must hold still to be taken as the idle baseline:
   * it depends on the machine, not on the work delay (nothing is owed while it settles).
   */
  settle(): number;
  /** Slack for anything that involves no work delay (a process start, a signal). */
  slack(): number;
  /**
   * Time a connect may take: a SYN the kernel dropped (a full accept queue) is sent again 1 s, 3 s and
   * 7 s after the first. Costs nothing where the server listens (at once) or nothing does (refused).
   */
  connect(): number;
  /** Time a freshly started target gets to listen. */
  ready(): number;
}

/** Base slack for scheduling noise, before the multiplier. */
export const BASE_SLACK_MS = 1000;
/**
 * Base allowance for an answer that is owed (an ack, a close) beyond the work it takes. Twice the
 * slack: a loaded 2-core machine can stall a server for over a second, and waiting longer costs a
 * correct server nothing (the wait ends with the answer); only missing answers wait it out.
 */
export const BASE_ANSWER_SLACK_MS = 2 * BASE_SLACK_MS;
/** Base window a resource count must hold still for to count as settled, before the multiplier. */
export const BASE_SETTLE_MS = 300;
/** Base allowance for a server to start listening, before the multiplier. */
export const BASE_READY_MS = 10_000;

export function makeDeadlines(delayMs: number, multiplier: number): Deadlines {
  const scale = (ms: number): number => Math.ceil(ms * multiplier);
  return {
    delayMs,
    multiplier,
    ack: (messages = 1) => scale(messages * delayMs + BASE_ANSWER_SLACK_MS),
    firstAck: (sessions: number) => scale(delayMs + BASE_SLACK_MS * (1 + Math.ceil(sessions / 8))),
    close: () => scale(delayMs + BASE_ANSWER_SLACK_MS),
    quiet: () => scale(Math.max(delayMs * 1.5, 300)),
    settle: () => scale(BASE_SETTLE_MS),
    slack: () => scale(BASE_SLACK_MS),
    connect: () => scale(8 * BASE_SLACK_MS),
    ready: () => scale(BASE_READY_MS),
  };
}

/** Reads the global multiplier: an explicit value wins over SM_TIMEOUT_MULTIPLIER; default 1. */
export function resolveMultiplier(explicit?: string | number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = explicit ?? env.SM_TIMEOUT_MULTIPLIER ?? '1';
  const value = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`timeout multiplier must be a positive number, got "${raw}"`);
  }
  return value;
}

/**
 * Polls `condition` until it holds or `timeoutMs` passes. Resolves true when it held, false at the
 * deadline: a missed deadline is an observation for the caller to judge, not an exception.
 */
export async function pollUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  intervalMs = 10,
): Promise<boolean> {
  try {
    await pWaitFor(condition, { interval: intervalMs, timeout: timeoutMs });
    return true;
  } catch (err) {
    if (!(err instanceof Error && err.name === 'TimeoutError')) throw err;
    return lastLook(condition);
  }
}

/**
 * Polls like pollUntil, but looks often at first and less and less often after (the interval grows
 * by half each time, up to `maxIntervalMs`): for a wait whose end is usually soon but may be long (a
 * server starting), where each look costs something (reading /proc).
 */
export async function pollWithBackoff(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
  firstIntervalMs = 5,
  maxIntervalMs = 50,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let interval = firstIntervalMs;
  for (;;) {
    if (await condition()) return true;
    const left = deadline - Date.now();
    if (left <= 0) return lastLook(condition);
    await new Promise((resolve) => setTimeout(resolve, Math.min(interval, left)));
    interval = Math.min(maxIntervalMs, Math.ceil(interval * 1.5));
  }
}

/**
 * One more look at a condition whose deadline fired, after the I/O already waiting has been delivered.
 * When a loaded machine stalls our event loop past a deadline, Node runs the deadline's timer before it
 * reads the socket whose answer arrived meanwhile: without this look, an answer that was on time would
 * be reported missing (the kit would cry wolf). setImmediate runs after the loop's I/O phase.
 */
async function lastLook(condition: () => boolean | Promise<boolean>): Promise<boolean> {
  await new Promise<void>((resolve) => setImmediate(resolve));
  return condition();
}

/**
 * Waits until `read()` has stopped changing for `quietMs` (each change restarts the wait), or until
 * `capMs` has passed in all. Used to measure "how many sessions get served" without guessing how long
 * a slow server needs: as long as acks keep arriving, the window stays open. `quietMs` may depend on the
 * value read, so a value that is what a correct server gives settles sooner than one that is not.
 */
export async function waitUntilSettled<T>(
  read: () => T,
  quietMs: number | ((value: T) => number),
  capMs: number,
  intervalMs = 10,
  /** ends the wait at once when it holds (e.g. everybody served already) */
  done: () => boolean = () => false,
): Promise<T> {
  const start = Date.now();
  const quietFor = typeof quietMs === 'function' ? quietMs : () => quietMs;
  let last = read();
  let lastChange = start;
  await pollUntil(() => {
    const now = Date.now();
    const value = read();
    if (value !== last) {
      last = value;
      lastChange = now;
    }
    return done() || now - lastChange >= quietFor(last) || now - start >= capMs;
  }, capMs + intervalMs * 10, intervalMs); // the cap ends the wait; the poll's own deadline is a backstop
  return last;
}
