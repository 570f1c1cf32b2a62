import { pollUntil, waitUntilSettled } from '../harness/deadlines';
import { sampleTree, TreeSample } from '../harness/tree-probe';
import { CaseBlocked, CaseContext } from './types';
import { runSessions, SessionEnd, sessionMix } from './session-mix';

/** What the resource cases share: baselines, sessions that always end, and "the server is gone". */

/** Clock ticks per second of /proc/<pid>/stat CPU times (USER_HZ, 100 on Linux). */
export const USER_HZ = 100;

/** Waits until `read` of the tree has not changed for a while, then returns it: the idle baseline. */
export async function stableBaseline<T extends number | string>(ctx: CaseContext, read: (s: TreeSample) => T): Promise<T> {
  return waitUntilSettled(() => read(sampleTree(ctx.server)), ctx.deadlines.settle(), ctx.deadlines.slack() * 3);
}

/** The cases whose failure explains a server that died while a resource case drove sessions. */
export const SURVIVAL_CASES = ['close.rst.server-survives', 'close.connect-close.server-survives', 'close.leave-before-ack.server-survives', 'robustness.non-ascii'];

/** Nothing is left to measure once the server process is gone: the case is blocked, not failed. */
export function requireServer(ctx: CaseContext, during: string, evidence: Record<string, unknown> = {}): void {
  if (ctx.server.serverAlive()) return;
  const exit = ctx.server.exitStatus();
  const how = exit ? (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`) : `process ${ctx.server.serverPid} gone`;
  throw new CaseBlocked(`the server died ${during} (${how})`, SURVIVAL_CASES, evidence);
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

/** Polls until the tree's value is back at or under the baseline; returns the last sample. */
export async function settleTo(ctx: CaseContext, read: (s: TreeSample) => number, baseline: number): Promise<TreeSample> {
  let last = sampleTree(ctx.server);
  await pollUntil(() => read((last = sampleTree(ctx.server))) <= baseline, ctx.deadlines.close() + ctx.deadlines.slack() * 2, 50);
  return last;
}

/** Share of one core the tree used between two samples (1 = a whole core). */
export function cpuShare(before: TreeSample, after: TreeSample): number {
  return (after.cpuTicks - before.cpuTicks) / USER_HZ / ((after.at - before.at) / 1000);
}

/** CPU ticks per process between two samples, for evidence. */
export function ticksPerProcess(before: TreeSample, after: TreeSample): string[] {
  return after.processes.map((p) => `${p.pid}(${p.comm}): ${p.cpuTicks - (before.processes.find((q) => q.pid === p.pid)?.cpuTicks ?? 0)} ticks`);
}
