import { pollUntil, waitUntilSettled } from '../harness/deadlines';
import { USER_HZ } from '../harness/procfs';
import { sampleTree, TreeSample } from '../harness/tree-probe';
import { CaseBlocked, CaseContext } from './types';
import { runSessions, SessionEnd, sessionMix } from './session-mix';
import { howServerEnded } from './evidence';

/** What the resource cases share: baselines, sessions that always end, and "the server is gone". */

/** Waits until `read` of the tree has not changed for a while, then returns it: the idle baseline. */
export async function stableBaseline<T extends number | string>(ctx: CaseContext, read: (s: TreeSample) => T): Promise<T> {
  return waitUntilSettled(() => read(sampleTree(ctx.server)), ctx.deadlines.settle(), ctx.deadlines.slack() * 3);
}

/** The cases whose failure explains a server that died while a resource case drove sessions. */
export const SURVIVAL_CASES = ['close.rst.server-survives', 'close.connect-close.server-survives', 'close.leave-before-ack.server-survives', 'robustness.non-ascii'];

/** Nothing is left to measure once the server process is gone: the case is blocked, not failed. */
export function requireServer(ctx: CaseContext, during: string, evidence: Record<string, unknown> = {}): void {
  if (ctx.server.serverAlive()) return;
  throw new CaseBlocked(`the server died ${during} (${howServerEnded(ctx.server)})`, SURVIVAL_CASES, evidence);
}

/**
 * Runs sessions to exercise a resource. What went wrong in them is the protocol cases' business: it
 * goes to the evidence, and the resource is measured all the same (every session is over by then).
 */
async function drive(ctx: CaseContext, ends: SessionEnd[], what: string): Promise<Record<string, unknown>> {
  const problems = await runSessions(ctx, ends);
  const evidence = problems.length ? { [`${what}Problems`]: `${problems.length} of ${ends.length} sessions: ${problems.slice(0, 3).join('; ')}` } : {};
  requireServer(ctx, `during the ${what}`, evidence);
  return evidence;
}

/** Warms the server up with one complete session, so lazily created resources join the baseline. */
export const warmUp = (ctx: CaseContext): Promise<Record<string, unknown>> => drive(ctx, ['goodbye'], 'warmUp');

/** Runs `rounds` of every session ending. */
export const exercise = (ctx: CaseContext, rounds: number): Promise<Record<string, unknown>> => drive(ctx, sessionMix(rounds), 'sessions');

/** A count of the tree at rest, and after the sessions: `now` is `count(after)`. */
export interface BackToRest {
  atRest: number;
  after: TreeSample;
  now: number;
}

/**
 * Polls until `count` of the tree is back at or under its value in `rest`, for `withinMs` at most (by
 * default the close allowance and two slacks); returns both, and the last sample.
 */
export async function backToRest(ctx: CaseContext, count: (s: TreeSample) => number, rest: TreeSample, withinMs = ctx.deadlines.close() + ctx.deadlines.slack() * 2, allowance = 0): Promise<BackToRest> {
  const atRest = count(rest);
  let after = sampleTree(ctx.server);
  await pollUntil(() => count((after = sampleTree(ctx.server))) <= atRest + allowance, withinMs, 50);
  return { atRest, after, now: count(after) };
}

/** Share of one core the tree used between two samples (1 = a whole core). */
export function cpuShare(before: TreeSample, after: TreeSample): number {
  return (after.cpuTicks - before.cpuTicks) / USER_HZ / ((after.at - before.at) / 1000);
}

/** CPU ticks per process between two samples, for evidence. */
export function ticksPerProcess(before: TreeSample, after: TreeSample): string[] {
  return after.processes.map((p) => `${p.pid}(${p.comm}): ${p.cpuTicks - (before.processes.find((q) => q.pid === p.pid)?.cpuTicks ?? 0)} ticks`);
}
