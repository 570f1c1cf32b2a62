import { Deadlines } from '../harness/deadlines';
import { ProtocolClient } from '../harness/client';
import { LaunchedTarget } from '../harness/launcher';
import { ModelName } from '../harness/models';
import { SessionTrace } from '../harness/session-trace';
import { Target } from '../harness/target';

/** MUST failures fail the run; SHOULD failures warn unless --strict; INFO never fails. */
export type Level = 'MUST' | 'SHOULD' | 'INFO';
/**
 * What a case concluded. `fail` (MUST) and `warn` (SHOULD) are about the server. `blocked`: the
 * measurement could not be made (the server died, nothing listens); the cases that explain it are named.
 * `error`: a fault of the kit itself, never held against the server (the run exits 2).
 */
export type Outcome = 'pass' | 'fail' | 'warn' | 'skip' | 'informational' | 'blocked' | 'error';
export const OUTCOMES: readonly Outcome[] = ['pass', 'fail', 'warn', 'skip', 'informational', 'blocked', 'error'];

/** A rule of docs/protocol.md, such as 'R2.1'. */
export type RuleId = `R${number}.${number}`;

/**
 * The models a case is about: every model, those with a fixed limit (`bounded`), those without
 * (`unbounded`), or a list. For the others it is skipped, with `because` as the reason.
 */
export interface AppliesTo {
  models: 'all' | 'bounded' | 'unbounded' | readonly ModelName[];
  because?: string;
}

/**
 * `procfs`: reads Linux's /proc (skipped where it is missing); `processes`: watches the server's own
 * processes there (against a server the kit did not start, only when its pid is given); `exclusive`:
 * may take the machine to itself (a crowd, a flood); `slow`: takes seconds even at a short work delay.
 */
export type Tag = 'procfs' | 'processes' | 'exclusive' | 'slow';
export const TAGS: readonly Tag[] = ['procfs', 'processes', 'exclusive', 'slow'];

/** What a case measured, typed, for reports to read (instead of parsing its message). */
export interface Measurements {
  /** concurrency.limit: sessions served at the same time out of those held open (all of them: "at least") */
  servedAtOnce?: { count: number; held: number };
  /** share of one core the server's processes used while they should have been idle or waiting */
  cpuShare?: number;
  /** open descriptors of the server's processes at rest and after the sessions */
  descriptors?: { atRest: number; after: number };
}

/** The measured limit as reports print it: "5", or "≥ 65" when every session held was served. */
export function limitText(m: Measurements | undefined): string | undefined {
  const s = m?.servedAtOnce;
  if (s === undefined) return undefined;
  return s.count >= s.held ? `≥ ${s.count}` : `${s.count}`;
}

export interface CaseResult {
  id: string;
  level: Level;
  title: string;
  outcome: Outcome;
  durationMs: number;
  /** one-line summary of a failure, a skip reason, or the information measured */
  message?: string;
  expected?: string;
  actual?: string;
  evidence?: Record<string, unknown>;
  /** what the case measured, typed (see Measurements) */
  measurements?: Measurements;
  /** the rules of docs/protocol.md the case checks */
  requirement?: readonly RuleId[];
  sessions?: SessionTrace[];
  /**
   * Where the case sampled the accept queue (ConformanceCase.samplesAcceptQueue): the server's listen
   * queue length as `[ms since the case started, length]`, at the first sample and at every change.
   */
  listenQueue?: [number, number][];
  /** blocked: ids of the cases whose failures explain why the measurement could not be made */
  blockedBy?: string[];
  /** error: the kit's stack trace, for a bug report */
  stack?: string;
  /** Where the time went (absent for skipped cases): see CaseTiming. */
  timing?: CaseTiming;
}

/**
 * Where a case's time went. Cases that share an exercise share a server: the launch and the lock wait
 * are counted on the first of them, the stop on the last, the exercise on the case that ran it, so the
 * figures of a run add up.
 */
export interface CaseTiming {
  /** ms waiting for the machine lock (other cases running) */
  lockWaitMs: number;
  /** ms from spawning the server until it listened */
  launchMs: number;
  /** ms inside the case: its own judging, plus the shared exercise if this case ran it */
  runMs: number;
  /** ms stopping the server and closing clients */
  stopMs: number;
  /** ids of the other cases that ran on the same server */
  shared?: string[];
  /** the case did not pass on a server earlier cases had used; this result is from a fresh one */
  retriedFresh?: boolean;
}

/** What a case sees: the target, its freshly started server, deadlines, and a tracked client factory. */
export interface CaseContext {
  readonly target: Target;
  readonly server: LaunchedTarget;
  readonly deadlines: Deadlines;
  /** Opens a client to the server; every client is closed when the case ends. */
  connect(label?: string): Promise<ProtocolClient>;
  /** ms since the case started */
  now(): number;
  /**
   * Runs `exercise` against this server once, however many cases of this run ask for it: every later
   * call gets the same observation (or the same failure). Sessions it opens stay open until the last
   * case sharing the server has ended.
   */
  exercised<T>(exercise: Exercise<T>): Promise<T>;
  /**
   * Runs `work` with the machine to itself (no other case of any kit process runs meanwhile). For a
   * measurement made among neighbours that came out short of what the server promises: made again
   * alone, it is the one judged, so neighbours' load never fails a server and a correct server pays
   * nothing.
   */
  alone<T>(work: () => Promise<T>): Promise<T>;
}

/**
 * Sessions several cases judge: run once per server, each case reads its own verdict from what was
 * observed (one warm-up and session mix for descriptors, processes, threads and zombies).
 */
export interface Exercise<T> {
  /** names the exercise in timings and evidence */
  id: string;
  run(ctx: CaseContext): Promise<T>;
}

/** What a passing or informational case reports. */
export interface CaseReport {
  message?: string;
  evidence?: Record<string, unknown>;
  measurements?: Measurements;
}

export interface ConformanceCase {
  /** stable id, `area.topic.detail` */
  id: string;
  level: Level;
  title: string;
  /** The rules of docs/protocol.md the case checks; a failure prints them. */
  requirement: readonly RuleId[];
  /** The models the case is about. */
  appliesTo: AppliesTo;
  /** What the case needs and costs (a `procfs` case is skipped where /proc is missing). */
  tags: readonly Tag[];
  /**
   * What the case does to the server, in one to three sentences: the clients it opens, what they send, what it watches
   * (not the verdict).
   */
  description: string;
  /**
   * What a conforming server shows: the pass condition in plain words, with the numbers the case uses (deadlines as multiples
   * of the delay D and the slack, counts, thresholds).
   */
  expectation: string;
  /** The failure in production this case prevents, concretely (who suffers, how it shows). One to three sentences. */
  why: string;
  /**
   * Where to look when it fails: the usual bugs behind a failure, each a short phrase naming the code construct (e.g. "ack
   * written per read() instead of per ETX", "SIGCHLD handler that calls wait() once per signal"). Two to five entries.
   */
  commonCauses: readonly string[];
  /**
   * Why the case cannot run against this target although its model is one it applies to (a tool
   * missing, a delay too short to judge), or undefined when it can.
   */
  skipReason?(target: Target): string | undefined;
  /**
   * Runs the server with this work delay instead of the declared one, where the command has {delayMs}:
   * a number, or decided per target and timeout multiplier (undefined keeps the declared delay).
   */
  delayOverride?: number | ((target: Target, multiplier: number) => number | undefined);
  /**
   * The case loads the machine in bursts (a crowd of processes, a flood): the runner gives it the
   * machine alone, so it cannot starve the timing of cases in other kit processes. Decided per target.
   */
  exclusive?: boolean | ((target: Target) => boolean);
  /**
   * The exercise this case judges. Cases naming the same exercise run on one server with one run of it
   * (each is still its own case with its own outcome); they declare the same delayOverride.
   */
  exercise?: Exercise<unknown>;
  /**
   * The case leaves a correct server as it found it (each of its sessions served to the end and closed)
   * and measures nothing of a fresh one, so it may run on a server that earlier cases used. A verdict
   * other than a pass there is not trusted: the case runs again on a fresh server, and that is reported.
   */
  sharesServer?: boolean;
  /**
   * Why the case needs a server the kit started itself (it times the start, stops the server, kills a
   * worker, changes its limits): against a server already running it is skipped with this reason.
   */
  needsOwnServer?: string;
  /**
   * The runner samples the server's accept queue while the case runs (see harness/accept-queue.ts): its
   * sessions then tell when the server accepted each (`acceptedAt`), and the result carries the listen
   * queue's length over time. For cases whose picture is about who waits where.
   */
  samplesAcceptQueue?: boolean;
  run(ctx: CaseContext): Promise<CaseReport | void>;
}

/** A case's expectation not met; carries what was expected, what was seen, and the evidence. */
export class CaseFailure extends Error {
  override name = 'CaseFailure';
  constructor(
    readonly expected: string,
    readonly actual: string,
    readonly evidence: Record<string, unknown> = {},
  ) {
    super(`expected ${expected}; saw ${actual}`);
  }
}

/**
 * A deadline missed by a server that was still alive and not yet answered: a failure, unless other
 * programs loaded the machine while the case had it to itself (then the runner reports it blocked: see
 * harness/outside-load.ts). Dropped, reset or wrong answers are never this.
 */
export class CaseLate extends CaseFailure {
  override name = 'CaseLate';
}

/**
 * The case could not make its measurement (the server died, nothing listens): not a verdict on what the
 * case is about. `explainedBy` names the cases whose failures tell why.
 */
export class CaseBlocked extends Error {
  override name = 'CaseBlocked';
  constructor(
    readonly reason: string,
    readonly explainedBy: string[],
    readonly evidence: Record<string, unknown> = {},
  ) {
    super(reason);
  }
}

/** Throws a CaseFailure unless `ok`. */
export function check(ok: boolean, expected: string, actual: string, evidence: Record<string, unknown> = {}): asserts ok {
  if (!ok) throw new CaseFailure(expected, actual, evidence);
}

/** Throws a CaseLate unless `ok`: for a deadline that a live server only missed (see CaseLate). */
export function checkInTime(ok: boolean, expected: string, actual: string, evidence: Record<string, unknown> = {}): asserts ok {
  if (!ok) throw new CaseLate(expected, actual, evidence);
}
