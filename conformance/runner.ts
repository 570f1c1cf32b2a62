import { AcceptQueueSampler, acceptQueueSummary, isLoopback, sampleAcceptQueue } from './harness/accept-queue';
import { ProtocolClient, closeAll } from './harness/client';
import { Deadlines, makeDeadlines, pollUntil } from './harness/deadlines';
import { launchTarget, LaunchedTarget, LaunchError, ListenTimeoutError, listensOn } from './harness/launcher';
import { answers, attachTarget, runningEndpoint } from './harness/attach';
import { hasProcfs } from './harness/procfs';
import { LockHold, withMachineLock } from './harness/machine-lock';
import { OUTSIDE_LOAD_BOUND, OutsideLoad, watchOutsideLoad } from './harness/outside-load';
import { weighSession } from './harness/crowd-weight';
import { crowdsAreHeavy } from './harness/models';
import { SessionTrace } from './harness/session-trace';
import { hasFixedAddress, Target } from './harness/target';
import { describeEndpoint, listenAtOf } from './harness/endpoint';
import { notAppliedReason } from './cases/applies-to';
import { CaseBlocked, CaseContext, CaseFailure, CaseLate, CaseResult, ConformanceCase, Exercise, Level, Outcome } from './cases/types';

function failureOutcome(level: Level): Outcome {
  return level === 'MUST' ? 'fail' : level === 'SHOULD' ? 'warn' : 'informational';
}

/** What a caller may want to know of a case's run. */
export interface CaseHooks {
  /** The case's server has started (e.g. to stop it from a teardown hook should the case never end). */
  onLaunch?: (server: LaunchedTarget) => void;
}

/** Why a case does not run against this target, or undefined. */
export function skipReasonFor(c: ConformanceCase, target: Target): string | undefined {
  const notAbout = notAppliedReason(c, target);
  if (notAbout !== undefined) return notAbout;
  if (c.tags.includes('procfs') && !hasProcfs()) return 'this machine has no /proc';
  if (target.running) {
    if (c.needsOwnServer) return `needs a server the kit starts (${c.needsOwnServer}); this one was already running`;
    if (c.tags.includes('processes') && target.pid === undefined) return 'watches the server\'s processes: give the pid of a server already running (--pid)';
  }
  return c.skipReason?.(target);
}

function traceOf(label: string, client: ProtocolClient, caseStart: number, sampler?: AcceptQueueSampler): SessionTrace {
  const offset = client.connectedAt - caseStart;
  const trace: SessionTrace = { label, connectedAt: offset, acksAt: client.ackTimes().map((t) => t - caseStart) };
  const acceptedAt = sampler?.acceptedAt(client.localPort, client.connectedAt);
  if (acceptedAt !== undefined) trace.acceptedAt = acceptedAt - caseStart;
  if (client.ending) {
    trace.endedAt = offset + client.ending.at;
    trace.endedBy = client.ending.kind === 'fin' ? 'server-fin' : client.ending.kind === 'rst' ? 'server-rst' : 'client';
  }
  return trace;
}

function serverEvidence(server: LaunchedTarget): Record<string, unknown> {
  const exit = server.exitStatus();
  if (!exit) return {};
  const stderr = server.stderr().trimEnd().split('\n').slice(-5).join('\n');
  return { serverExited: exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`, ...(stderr ? { serverStderr: stderr } : {}) };
}

/**
 * A connect that failed is an observation about the server: says what was true at that moment (server
 * process alive or exited, a listener on the port or not).
 */
function connectFailure(err: NodeJS.ErrnoException, server: LaunchedTarget): CaseFailure {
  const exit = server.exitStatus();
  const alive = server.serverAlive();
  // A running server given without its pid shows nothing of its processes.
  const unseen = server.target.running && server.target.pid === undefined;
  const listening = hasProcfs() && !unseen ? listensOn(server.sweepPids(), listenAtOf(server.endpoint)) : undefined;
  const state = unseen ? 'a server the kit did not start (its processes unseen: no --pid)'
    : alive ? `the server process ${server.serverPid} alive` : `the server exited (${exit ? (exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`) : `process ${server.serverPid} gone`})`;
  const on = server.endpoint.path !== undefined ? server.endpoint.path : `port ${server.port}`;
  const listener = listening === undefined ? '' : listening ? `, a socket of the server listening on ${on}` : `, nothing of the server listening on ${on}`;
  return new CaseFailure(`a connection to ${describeEndpoint(server.endpoint)}`, `${err.code ?? err.message} with ${state}${listener}`,
    { connectError: err.message, serverAlive: unseen ? 'unknown (no --pid)' : alive, listening: listening ?? (unseen ? 'unknown (no --pid)' : 'unknown (no /proc)') });
}

/** Cases about processes name the launchers the server was found under (they are never counted). */
function launchEvidence(c: ConformanceCase, server: LaunchedTarget): Record<string, unknown> | undefined {
  return c.tags.includes('procfs') && server.launchedThrough ? { launchedThrough: server.launchedThrough } : undefined;
}

/** Cases that may share a server (ConformanceCase.sharesServer) run in chains of at most this many. */
export const CHAIN_LENGTH = 4;

/** The case may run in a chain: it shares a server, and no exercise; a chain runs at one delay. */
const chainable = (c: ConformanceCase): boolean => c.sharesServer === true && !c.exercise && c.delayOverride === undefined;

/**
 * Groups cases into units that run on one server: a case alone; every case sharing an exercise (placed
 * where the first of them is); or a chain of up to `chainLength` cases that may share a server, run one
 * after another. A chain saves the launches that dominate a check of a slow-starting server.
 */
export function planUnits(cases: ConformanceCase[], chainLength = CHAIN_LENGTH): ConformanceCase[][] {
  const units: ConformanceCase[][] = [];
  const byExercise = new Map<unknown, ConformanceCase[]>();
  let chain: ConformanceCase[] | undefined;
  for (const c of cases) {
    if (chainable(c)) {
      if (chain && chain.length < chainLength) chain.push(c);
      else units.push((chain = [c]));
      continue;
    }
    const shared = c.exercise ? byExercise.get(c.exercise) : undefined;
    if (shared) {
      shared.push(c);
      continue;
    }
    const unit = [c];
    units.push(unit);
    if (c.exercise) byExercise.set(c.exercise, unit);
  }
  return units;
}

/**
 * Runs one case against a freshly started server: every case gets its own server, so one broken
 * behaviour cannot spill into the next case. The server and every client are gone when this resolves.
 */
export async function runCase(c: ConformanceCase, declared: Target, declaredDeadlines: Deadlines, hooks: CaseHooks = {}): Promise<CaseResult> {
  return (await runPlans([planUnit([c], declared, declaredDeadlines)], hooks))[0][0];
}

/**
 * Groups cases into batches of planned units run under one hold of the machine lock: every unit that
 * needs the machine alone in one batch, placed first, then each other unit alone (they run side by side).
 */
export function planBatches(cases: ConformanceCase[], target: Target, deadlines: Deadlines): PlannedUnit[][] {
  // A fixed port (or socket path) runs one case at a time anyway: its chains need no end. A server
  // already running is looked at after every case, in case order: one that stopped answering blocks
  // the cases after it.
  if (target.running) return planUnits(cases, 1).map((u) => [planUnit(u, target, deadlines)]);
  const plans = planUnits(cases, hasFixedAddress(target) ? Infinity : CHAIN_LENGTH).map((u) => planUnit(u, target, deadlines));
  const alone = plans.filter((p) => p.exclusive);
  return [...(alone.length > 0 ? [alone] : []), ...plans.filter((p) => !p.exclusive).map((p) => [p])];
}

/** A unit ready to run: its skipped cases answered, the rest with the target and deadlines they run at. */
export interface PlannedUnit {
  unit: ConformanceCase[];
  skipped: Map<ConformanceCase, CaseResult>;
  runnable: ConformanceCase[];
  target: Target;
  deadlines: Deadlines;
  /** needs the machine to itself (see ConformanceCase.exclusive) */
  exclusive: boolean;
}

export function planUnit(unit: ConformanceCase[], declared: Target, declaredDeadlines: Deadlines): PlannedUnit {
  const skipped = new Map<ConformanceCase, CaseResult>();
  for (const c of unit) {
    const skip = skipReasonFor(c, declared);
    if (skip) skipped.set(c, { id: c.id, level: c.level, title: c.title, outcome: 'skip', durationMs: 0, message: skip });
  }
  const runnable = unit.filter((c) => !skipped.has(c));
  // A case may need another work delay (e.g. 0 to make a slow reader's buffers fill); only a command
  // with {delayMs} can be given one. Cases sharing an exercise declare the same.
  const first = runnable[0];
  const wanted = typeof first?.delayOverride === 'function' ? first.delayOverride(declared, declaredDeadlines.multiplier) : first?.delayOverride;
  const override = wanted !== undefined && declared.cmd.includes('{delayMs}');
  const target = override ? { ...declared, delayMs: wanted } : declared;
  const deadlines = override ? makeDeadlines(target.delayMs, declaredDeadlines.multiplier) : declaredDeadlines;
  const exclusive = runnable.some((c) => (typeof c.exclusive === 'function' ? c.exclusive(target) : c.exclusive === true));
  return { unit, skipped, runnable, target, deadlines, exclusive };
}

/** Runs a planned unit on its own server, the machine lock already held as it needs. */
async function runPlanned(plan: PlannedUnit, hooks: CaseHooks, lockWaitMs: number, hold: LockHold, machineAlone: boolean): Promise<CaseResult[]> {
  const results = plan.runnable.length > 0 ? await runLaunched(plan.runnable, plan.target, plan.deadlines, hooks, lockWaitMs, hold, machineAlone) : [];
  return plan.unit.map((c) => plan.skipped.get(c) ?? results[plan.runnable.indexOf(c)]);
}

/**
 * Runs planned units (see planUnits) one after another under one hold of the machine lock, exclusive if
 * any of them needs the machine alone: each on one freshly started server, its shared exercise once, then
 * each case's own verdict, in order. Taking the machine once for all of a target's exclusive units spares
 * the machine a drain of every other case per unit. Results come in the units' order; the servers and
 * every client are gone when this resolves.
 */
export async function runPlans(plans: PlannedUnit[], hooks: CaseHooks = {}): Promise<CaseResult[][]> {
  if (plans.every((p) => p.runnable.length === 0)) return plans.map((p) => p.unit.map((c) => p.skipped.get(c) as CaseResult));
  const asked = Date.now();
  const machineAlone = plans.some((p) => p.exclusive);
  return withMachineLock(machineAlone ? 'exclusive' : 'shared', async (hold) => {
    const waited = Date.now() - asked;
    const all: CaseResult[][] = [];
    for (const plan of plans) all.push(await runPlanned(plan, hooks, all.length === 0 ? waited : 0, hold, machineAlone));
    return all;
  });
}

/** Sessions of a unit: the exercise's, kept open until the unit ends, and each case's own. */
interface Opened {
  label: string;
  client: ProtocolClient;
}

/** A start of the unit's server: the server, or why it could not be started. */
interface Start {
  server?: LaunchedTarget;
  error?: unknown;
}

const passed = (r: CaseResult): boolean => r.outcome === 'pass' || r.outcome === 'informational' || r.outcome === 'skip';

/** The result is blocked because other programs loaded the machine while a deadline was missed (see judgedUnderLoad). */
export function blockedByOutsideLoad(result: CaseResult): boolean {
  return result.outcome === 'blocked' && result.evidence?.outsideCpu !== undefined;
}

/**
 * A deadline missed while the case had the machine to itself, but other programs loaded it meanwhile,
 * is no verdict on the server: blocked (see CaseLate). Any other error is returned as it is.
 */
function judgedUnderLoad(err: unknown, load: OutsideLoad | undefined): unknown {
  if (!(err instanceof CaseLate) || !load) return err;
  const share = load.share();
  if (share === undefined || share <= OUTSIDE_LOAD_BOUND) return err;
  const outside = `${Math.round(share * 100)}%`;
  return new CaseBlocked(`${err.message}; but other programs took ${outside} of the machine's CPU time meanwhile ` +
    `(more than ${OUTSIDE_LOAD_BOUND * 100}%): a deadline missed on a loaded machine is not judged`, [], { ...err.evidence, outsideCpu: outside });
}

async function runLaunched(unit: ConformanceCase[], target: Target, deadlines: Deadlines, hooks: CaseHooks, lockWaitMs: number, hold: LockHold, machineAlone: boolean): Promise<CaseResult[]> {
  const launch = async (): Promise<Start> => {
    try {
      const server = await (target.running ? attachTarget(target, deadlines) : launchTarget(target, deadlines)).catch((err: unknown) => {
        // Starts side by side on a loaded machine can be slow for want of CPU: one that ran out of time
        // is tried again with the machine alone before its cases are called blocked.
        if (!(err instanceof ListenTimeoutError)) throw err;
        return hold.alone(() => launchTarget(target, deadlines));
      });
      hooks.onLaunch?.(server);
      return { server };
    } catch (err) {
      return { error: err };
    }
  };
  let serverStart = Date.now();
  let start = await launch();
  let launchMs = Date.now() - serverStart;
  let stopMs = 0;
  /** The accept queue of the server in use, sampled from the first case that asks until the server stops. */
  let sampler: AcceptQueueSampler | undefined;
  const stopSampling = (): void => {
    sampler?.stop();
    sampler = undefined;
  };
  /** Stops the server in use and starts a fresh one (a chain's server after a case that did not pass). */
  const replace = async (): Promise<void> => {
    stopSampling();
    const stopping = Date.now();
    await start.server?.stop();
    stopMs += Date.now() - stopping;
    serverStart = Date.now();
    start = await launch();
    launchMs += Date.now() - serverStart;
  };
  const connect = (launched: LaunchedTarget, into: Opened[]) => async (label = `client ${into.length + 1}`): Promise<ProtocolClient> => {
    let client: ProtocolClient;
    try {
      client = await ProtocolClient.connectTo(launched.endpoint, deadlines.connect());
    } catch (err) {
      throw connectFailure(err as NodeJS.ErrnoException, launched);
    }
    into.push({ label, client });
    return client;
  };
  // One run of each exercise per server; the case that asks first runs it (and its time is counted
  // there). Units with an exercise never replace their server.
  const exerciseClients: Opened[] = [];
  const exercises = new Map<Exercise<unknown>, Promise<unknown>>();
  /** Runs one case on a server, its session times counted from `origin`; closes the case's own clients. */
  const runOn = async (c: ConformanceCase, on: Start, origin: number): Promise<CaseResult> => {
    const own: Opened[] = [];
    let result: CaseResult;
    const launched = on.server;
    const load = machineAlone && launched ? watchOutsideLoad(() => launched.memberPids()) : undefined;
    try {
      if (!on.server) throw on.error;
      // Only a TCP server on this machine is in the kit's TCP tables (another host's port may be a local one's).
      if (c.samplesAcceptQueue && on.server.endpoint.path === undefined && isLoopback(target.host)) sampler ??= sampleAcceptQueue(on.server.port);
      const base = { target, server: on.server, deadlines, now: () => Date.now() - origin, alone: hold.alone };
      const exerciseCtx: CaseContext = { ...base, connect: connect(on.server, exerciseClients), exercised: () => Promise.reject(new Error('an exercise cannot run another')) };
      const ctx: CaseContext = {
        ...base,
        connect: connect(on.server, own),
        exercised: <T>(exercise: Exercise<T>): Promise<T> => {
          let observation = exercises.get(exercise);
          if (!observation) exercises.set(exercise, (observation = exercise.run(exerciseCtx)));
          return observation as Promise<T>;
        },
      };
      const report = await c.run(ctx);
      const launch = launchEvidence(c, on.server);
      result = {
        id: c.id, level: c.level, title: c.title,
        outcome: c.level === 'INFO' ? 'informational' : 'pass',
        durationMs: 0,
        message: report?.message,
        ...(report?.measurements ? { measurements: report.measurements } : {}),
        evidence: report?.evidence || launch ? { ...report?.evidence, ...launch } : undefined,
      };
    } catch (err) {
      result = failedResult(c, judgedUnderLoad(err, load), on.server);
    }
    result.sessions = [...exerciseClients, ...own].map(({ label, client }) => traceOf(label, client, origin, sampler));
    // nothing to say where the sampler never saw the server's listener (a target that is no TCP port)
    if (sampler && c.samplesAcceptQueue && sampler.listenQueue.length > 0) {
      result.listenQueue = sampler.listenQueue.map(([at, length]) => [at - origin, length]);
      const summary = acceptQueueSummary(result.sessions, result.listenQueue);
      if (summary !== undefined) result.evidence = { ...result.evidence, acceptQueue: summary };
    }
    closeAll(own.map((o) => o.client));
    return result;
  };
  const chained = unit.every(chainable);
  const results: CaseResult[] = [];
  let onServer = 0; // cases already run on the server in use
  for (const c of unit) {
    const caseStart = Date.now();
    const before = launchMs + stopMs; // a start and stop that came before this case (counted on it, not inside it)
    // A chained case's sessions count from its own start; other cases' from the server's (they share its exercise).
    let result = await runOn(c, start, chained && onServer > 0 ? caseStart : serverStart);
    if (chained && !passed(result) && onServer > 0 && !target.running) {
      // Earlier cases may have left the server unlike a fresh one: only a fresh server's verdict is reported.
      const first = `${result.outcome}: ${result.message ?? ''}`;
      await replace();
      onServer = 0;
      result = await runOn(c, start, serverStart);
      result.evidence = { ...result.evidence, onUsedServer: first };
      result.timing = { lockWaitMs: 0, launchMs: 0, runMs: 0, stopMs: 0, retriedFresh: true };
    }
    onServer++;
    const ownMs = Date.now() - caseStart - (launchMs + stopMs - before);
    result.durationMs = launchMs + ownMs;
    result.timing = { ...result.timing, lockWaitMs: results.length === 0 ? lockWaitMs : 0, launchMs, runMs: ownMs, stopMs };
    if (unit.length > 1) result.timing.shared = unit.filter((o) => o !== c).map((o) => o.id);
    results.push(result);
    launchMs = 0;
    stopMs = 0;
    // The next case of a chain gets a fresh server after one that did not pass (a running one stays).
    if (chained && !passed(result) && c !== unit[unit.length - 1] && !target.running) {
      await replace();
      onServer = 0;
    }
  }
  stopSampling();
  const stopping = Date.now();
  closeAll(exerciseClients.map((o) => o.client));
  await start.server?.stop();
  const last = results[results.length - 1];
  if (last.timing) last.timing.stopMs += stopMs + Date.now() - stopping;
  return results;
}

/** The outcome of a case that threw: a failure of the server, a measurement not made, or a kit error. */
function failedResult(c: ConformanceCase, err: unknown, server: LaunchedTarget | undefined): CaseResult {
  const result: CaseResult = { id: c.id, level: c.level, title: c.title, outcome: failureOutcome(c.level), durationMs: 0, requirement: c.requirement };
  if (err instanceof CaseFailure) {
    Object.assign(result, { message: err.message, expected: err.expected, actual: err.actual, evidence: { ...err.evidence } });
    // An INFO case has no verdict to fail: its measurement could not be made, and it says so.
    if (c.level === 'INFO') result.message = `not measured: ${err.message}`;
  } else if (err instanceof CaseBlocked) {
    Object.assign(result, { outcome: 'blocked', message: err.reason, blockedBy: err.explainedBy, evidence: { ...err.evidence } });
  } else if (err instanceof LaunchError) {
    // This case's own server did not start (the suite's first start did): nothing could be measured.
    Object.assign(result, { outcome: 'blocked', message: err.message, blockedBy: ['lifecycle.ready'] });
  } else {
    // Anything else is a bug of the kit, never a verdict on the server.
    const e = err instanceof Error ? err : new Error(String(err));
    Object.assign(result, { outcome: 'error', message: `kit error: ${e.message}`, stack: e.stack });
  }
  if (server) result.evidence = { ...result.evidence, ...serverEvidence(server), ...launchEvidence(c, server) };
  return result;
}

export interface SuiteOptions {
  deadlines: Deadlines;
  /**
   * Cases run at the same time, each against its own server on its own port or socket (default 1). A
   * target on a fixed port or socket path runs one case at a time whatever this says. Cases that need the machine to themselves
   * still take the machine lock.
   */
  jobs?: number;
  /**
   * Starts the target once before any case (default true), so a target that cannot start at all is one
   * LaunchError instead of a page of blocked cases.
   */
  probe?: boolean;
  /** Called as each case starts (progress output); `index` counts from 1. */
  onCaseStart?: (c: ConformanceCase, index: number, total: number) => void;
  /** Called as each case finishes, in case order (progress output). */
  onResult?: (result: CaseResult) => void;
}

/** How many cases of a target can run at once: several servers side by side need a port (or a socket path) each. */
export function jobsFor(target: Target, requested: number): number {
  return hasFixedAddress(target) ? 1 : Math.max(1, Math.floor(requested));
}

/**
 * The probe start (see SuiteOptions.probe); for a process per connection, also the weighing of one
 * session's process (see weighSession), so that crowds of bare fork()s need not take the machine alone.
 * Weighing is never a verdict: a start or a session that fails it leaves crowds counted heavy.
 */
async function probeTarget(declared: Target, options: SuiteOptions): Promise<Target> {
  // A server already running is only looked at: attaching says whether it answers (and is its pid's).
  if (declared.running) return attachTarget(declared, options.deadlines).then(() => declared);
  const weighing = crowdsAreHeavy(declared) && declared.crowdWeight === undefined;
  if (options.probe === false && !weighing) return declared;
  let probe: LaunchedTarget;
  try {
    probe = await launchTarget(declared, options.deadlines);
  } catch (err) {
    if (options.probe !== false) throw err;
    return declared; // each case's own start will tell
  }
  try {
    const crowdWeight = weighing ? await weighSession(probe, options.deadlines).catch(() => undefined) : undefined;
    return crowdWeight ? { ...declared, crowdWeight } : declared;
  } finally {
    await probe.stop();
  }
}

/**
 * Runs cases against a target, `jobs` at a time, and reports them in case order. Starts the target
 * once first, so a target that cannot start at all is reported as a LaunchError (a target error)
 * instead of a page of failed cases.
 */
export async function runSuite(declared: Target, cases: ConformanceCase[], options: SuiteOptions): Promise<CaseResult[]> {
  const target = await probeTarget(declared, options);
  const results: (CaseResult | undefined)[] = cases.map(() => undefined);
  const batches = planBatches(cases, target, options.deadlines);
  let started = 0;
  let reported = 0;
  const report = (): void => {
    for (let r = results[reported]; r !== undefined; r = results[reported]) {
      reported++;
      options.onResult?.(r);
    }
  };
  // A server already running that stops answering cannot be restarted: the cases after it are blocked.
  let stoppedAnswering: { after: string; reason: string } | undefined;
  const worker = async (): Promise<void> => {
    while (started < batches.length) {
      const batch = batches[started++];
      for (const plan of batch) for (const c of plan.unit) options.onCaseStart?.(c, cases.indexOf(c) + 1, cases.length);
      const done = stoppedAnswering ? batch.map((plan) => plan.unit.map((c) => blockedBehind(c, plan, stoppedAnswering!))) : await runPlans(batch);
      batch.forEach((plan, u) => plan.unit.forEach((c, k) => (results[cases.indexOf(c)] = done[u][k])));
      if (target.running && !stoppedAnswering) stoppedAnswering = await stillAnswering(target, options.deadlines, done.flat());
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobsFor(target, options.jobs ?? 1), batches.length) }, worker));
  return explainBlocked(results as CaseResult[]);
}

/**
 * Whether a running target still answers after the results just made; what to say if not. After a
 * case that did not pass, the server may still owe work to that case's clients (a serial server
 * behind a crowd): one message must be answered (any byte, or a close) before the next case runs, so
 * no case is judged on the leftovers of another. The wait allows three messages per session it had.
 */
async function stillAnswering(target: Target, deadlines: Deadlines, done: CaseResult[]): Promise<{ after: string; reason: string } | undefined> {
  const ran = done.filter((r) => r.outcome !== 'skip');
  if (ran.length === 0) return undefined;
  const after = ran[ran.length - 1].id;
  const endpoint = runningEndpoint(target);
  const gone = { after, reason: `nothing accepts connections at ${describeEndpoint(endpoint)} any more` };
  if (ran.every(passed)) return (await answers(endpoint, deadlines.connect())) ? undefined : gone;
  let probe: ProtocolClient;
  try {
    probe = await ProtocolClient.connectTo(endpoint, deadlines.connect());
  } catch {
    return gone;
  }
  const sessions = ran.reduce((n, r) => n + (r.sessions?.length ?? 0), 0);
  const waitMs = deadlines.ack(1) + 3 * sessions * target.delayMs;
  try {
    await probe.send('settle');
    const settled = await pollUntil(() => probe.received.length > 0 || probe.ending !== undefined, waitMs);
    return settled ? undefined : { after, reason: `it accepts connections but answered no message within ${waitMs} ms` };
  } finally {
    probe.close();
  }
}

/** The result of a case not run because the running server stopped answering after another. */
function blockedBehind(c: ConformanceCase, plan: PlannedUnit, gone: { after: string; reason: string }): CaseResult {
  return plan.skipped.get(c) ?? {
    id: c.id, level: c.level, title: c.title, outcome: 'blocked', durationMs: 0,
    message: `not run: the server stopped answering after ${gone.after} (${gone.reason}); the kit did not start it, so cannot start it again`,
    blockedBy: [gone.after],
  };
}

/**
 * A blocked case names the cases that can explain it; where some of them failed in this run, those
 * are the explanation, and only they are named.
 */
export function explainBlocked(results: CaseResult[]): CaseResult[] {
  const failed = new Set(results.filter((r) => r.outcome === 'fail' || r.outcome === 'warn').map((r) => r.id));
  for (const r of results) {
    if (r.outcome !== 'blocked' || !r.blockedBy) continue;
    const seen = r.blockedBy.filter((id) => failed.has(id));
    if (seen.length > 0) r.blockedBy = seen;
  }
  return results;
}
