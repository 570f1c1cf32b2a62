import { Deadlines } from '../harness/deadlines';
import { ProtocolClient } from '../harness/client';
import { LaunchedTarget } from '../harness/launcher';
import { Target } from '../harness/target';

/** MUST failures fail the run; SHOULD failures are non-strict unless --strict; INFO never fails. */
export type Level = 'MUST' | 'SHOULD' | 'INFO';
/**
 * What a case concluded. `fail` (MUST) and `non-strict` (SHOULD) are about the server. `blocked`: the
 * measurement could not be made (the server died, nothing listens); the cases that explain it are named.
 * `error`: a fault of the kit itself, never held against the server (the run exits 2).
 */
export type Outcome = 'pass' | 'fail' | 'non-strict' | 'skip' | 'informational' | 'blocked' | 'error';
export const OUTCOMES: readonly Outcome[] = ['pass', 'fail', 'non-strict', 'skip', 'informational', 'blocked', 'error'];

/** What happened on one client connection of a case, for evidence and timelines. */
export interface SessionTrace {
  label: string;
  /** ms since the case started */
  connectedAt: number;
  /** ms since the case started, one per ack received */
  acksAt: number[];
  /** ms since the case started, and how the connection ended (undefined: still open when the case ended) */
  endedAt?: number;
  endedBy?: 'server-fin' | 'server-rst' | 'client';
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
  sessions?: SessionTrace[];
  /** blocked: ids of the cases whose failures explain why the measurement could not be made */
  blockedBy?: string[];
  /** error: the kit's stack trace, for a bug report */
  stack?: string;
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
}

/** What a passing or informational case reports. */
export interface CaseReport {
  message?: string;
  evidence?: Record<string, unknown>;
}

export interface ConformanceCase {
  /** stable id, `area.topic.detail` */
  id: string;
  level: Level;
  title: string;
  /** Why the case does not apply to this target, or undefined when it does. */
  skipReason?(target: Target): string | undefined;
  /** The case needs /proc (skipped with that reason where it is missing). */
  needsProcfs?: boolean;
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
