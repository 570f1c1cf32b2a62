import { constants } from 'node:os';
import { ProtocolClient } from '../harness/client';
import { frame } from '../harness/framing';
import { launchTarget, listensOn } from '../harness/launcher';
import { pollUntil } from '../harness/deadlines';
import { PROCESS_POOL_MODELS } from '../harness/models';
import { hasFixedAddress } from '../harness/target';
import { listProcesses } from '../harness/procfs';
import { childrenOf, describeProcess, holdsConnections, sampleTree } from '../harness/tree-probe';
import { listenAtOf } from '../harness/endpoint';
import { CaseContext, ConformanceCase, check } from './types';
import { clientEvidence, describeReceived } from './evidence';
import { holdSessions } from './concurrency';

/** Base time a server gets from its start to listening, before the multiplier. */
export const READY_BOUND_MS = 5000;

const signalName = (n: number): string | undefined => Object.entries(constants.signals).find(([, v]) => v === n)?.[0];

/**
 * How the server process exited. The kit sees the exit status of the command it started; when that is a
 * launcher, the launcher reports the server's status (sh, bash, npm, node launchers pass it on) once it
 * exits itself, which it does when its child is gone.
 */
async function exitStatusOf(ctx: CaseContext): Promise<{ code: number | null; seen: string; via: string }> {
  const server = ctx.server;
  const launchers = server.launchers.map((p) => p.comm).join(' → ');
  const via = launchers ? ` (as reported by the launcher ${launchers})` : '';
  await pollUntil(() => server.exitStatus() !== undefined, ctx.deadlines.slack() * 2);
  const exit = server.exitStatus();
  if (!exit) return { code: null, via, seen: `the launcher ${launchers} is still running after the server exited: the status cannot be seen` };
  // Shells report a child killed by signal N as exit code 128 + N.
  const bySignal = launchers && exit.code !== null && exit.code > 128 ? signalName(exit.code - 128) : undefined;
  const seen = exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}${bySignal ? ` (128 + ${bySignal}: the server was killed by it)` : ''}`;
  return { code: exit.code, via, seen };
}

/** Acks a session is owed when SIGTERM arrives. */
const SIGTERM_OWED = 3;

interface SigtermSeen {
  busy: ProtocolClient;
  /** a client that connected once the listener was gone (undefined: refused, as it should be) */
  late?: ProtocolClient;
  exited: boolean;
  exitedAfterMs?: number;
  graceMs: number;
  /** processes of the server still alive after it exited */
  leftovers: string[];
  evidence: Record<string, unknown>;
}

/**
 * SIGTERM to the server process while a session is owed acks; then a new client tries its luck, and
 * the kit waits for the exit and looks for processes of the server left behind.
 */
async function sigtermDuringSession(ctx: CaseContext): Promise<SigtermSeen> {
  const d = ctx.deadlines;
  const server = ctx.server;
  const before = sampleTree(server);
  const busy = await ctx.connect('session in progress');
  await busy.write(Buffer.concat(Array.from({ length: SIGTERM_OWED }, (_, i) => frame(`finish me ${i + 1}`))));
  // "During a session": wait until the tree holds our connection (accepted, not in the backlog). A pool
  // just started may still be bringing up its workers on a busy machine: as long as a start may take.
  const accepted = await pollUntil(() => holdsConnections(sampleTree(server), [busy], before), d.ready());
  check(accepted, 'the server to accept the session', 'it stayed in the backlog');
  // The signal goes to the server process, as a container runtime or a process manager sends it;
  // launchers above it (npm, sh -c) are not the server and are only watched.
  const launcherPids = new Set(server.launchers.map((p) => p.pid));
  const suspectsAtSignal = server.sweepPids().filter((pid) => !launcherPids.has(pid));
  const signalledAt = Date.now();
  process.kill(server.serverPid, 'SIGTERM');
  // The signal is asynchronous: a client racing it may still be accepted. Wait until the tree's
  // listening socket is gone (the drain has visibly begun) before trying a new session.
  await pollUntil(() => !listensOn(server.memberPids(), listenAtOf(server.endpoint)), d.slack());
  let late: ProtocolClient | undefined;
  try {
    late = await ctx.connect('after SIGTERM');
    await late.send('too late?');
  } catch {
    late = undefined; // refused: the listener is closed, as it should be
  }
  await busy.waitForAcks(SIGTERM_OWED, d.ack(SIGTERM_OWED));
  const graceMs = d.ack(SIGTERM_OWED) + d.slack() * 5; // servers drain within their own grace period (5 s by default)
  const exited = await pollUntil(() => !server.serverAlive(), Math.max(0, signalledAt + graceMs - Date.now()));
  const exitedAfterMs = exited ? Date.now() - signalledAt : undefined;
  const leftovers = (): string[] => {
    const suspects = new Set([...suspectsAtSignal, ...server.sweepPids().filter((pid) => !launcherPids.has(pid))]);
    return listProcesses().filter((p) => p.state !== 'Z' && suspects.has(p.pid)).map(describeProcess);
  };
  if (exited) await pollUntil(() => leftovers().length === 0, d.slack());
  const evidence = { signalled: `${server.serverPid}`, ...(exitedAfterMs !== undefined ? { exitedAfterMs } : {}), acksOfTheSession: busy.acks };
  return { busy, late, exited, exitedAfterMs, graceMs, leftovers: exited ? leftovers() : [], evidence };
}

/** lifecycle.*: start, stop and self-repair. */
export const lifecycleCases: ConformanceCase[] = [
  {
    id: 'lifecycle.ready', level: 'MUST', requirement: ['R8.1'],
    appliesTo: { models: 'all' }, tags: [],
    needsOwnServer: 'it times the server\'s start',
    title: `the server listens within ${READY_BOUND_MS / 1000} s of its start`,
    description: 'Measures the time from spawning the server command to a socket of the server tree listening on its port (or ' +
      'on its socket path, in /proc/net/unix), as seen through /proc. It never connects to find out; without /proc it waits ' +
      'for a "listening on host:port" (or "listening on unix:PATH") line instead.',
    expectation: 'Listening within 5 s × multiplier of the start. A start slower than that among other cases is made again ' +
      'with the machine alone (on a fresh port or socket path, unless it is fixed), and that start is judged.',
    why: 'Supervisors and orchestrators give a service a few seconds to come up. ' +
      'A server that does slow work before listen() is killed and restarted in a loop, and refuses clients the whole time.',
    commonCauses: [
      'slow initialisation (loading data, warming caches) before listen()',
      'workers started one by one before the listener opens',
      'sleep or retry loop waiting for a dependency before listen()',
    ],
    async run(ctx) {
      const bound = Math.ceil(READY_BOUND_MS * ctx.deadlines.multiplier);
      let readyAfterMs = ctx.server.readyAfterMs;
      const evidence: Record<string, unknown> = {};
      // A start among other cases' starts can be slow for want of CPU; one over the bound is made again
      // with the machine alone (on a fresh port; a fixed port is held by this case's server), and that
      // one is judged.
      if (readyAfterMs > bound && !hasFixedAddress(ctx.target)) {
        evidence.amongNeighboursMs = readyAfterMs;
        readyAfterMs = await ctx.alone(async () => {
          const again = await launchTarget(ctx.target, ctx.deadlines);
          await again.stop();
          return again.readyAfterMs;
        });
      }
      check(readyAfterMs <= bound, `listening within ${bound} ms`, `after ${readyAfterMs} ms`, evidence);
      return { message: `listening after ${readyAfterMs} ms`, evidence };
    },
  },
  {
    id: 'lifecycle.sigterm.exits', level: 'MUST', requirement: ['R8.2'],
    appliesTo: { models: 'all' }, tags: ['procfs', 'processes'],
    needsOwnServer: 'it stops the server with SIGTERM',
    title: 'SIGTERM during a session: the server process exits within the grace time and leaves no process behind',
    description: 'Opens one client that writes three messages in one write and waits until the server has accepted it. ' +
      'Then it sends SIGTERM to the server process (not to launchers above it), lets a late client try to connect, and watches ' +
      'for the exit and for processes of the tree left running.',
    expectation: 'The server process exits within (3 × D + 7 s) × multiplier of the signal, and no process of the server ' +
      '(launchers aside) still runs 1 s × multiplier after the exit. ' +
      'Before that, the session must be accepted within 10 s × multiplier.',
    why: 'Deploys and scale-downs stop services with SIGTERM, then SIGKILL. ' +
      'Workers orphaned by their master keep the port and serve the old version out of any supervisor\'s reach, and the next ' +
      'start fails with "address in use".',
    commonCauses: [
      'SIGTERM handler that closes the listener but waits for ever on idle or stuck sessions',
      'master that exits without signalling its workers',
      'workers that do not notice their master died (no PR_SET_PDEATHSIG, no pipe to watch)',
      'SIGTERM ignored or blocked (SIG_IGN, or a signal mask inherited by every thread)',
    ],
    async run(ctx) {
      // Workers left running after their master is gone keep the port and serve on, out of reach of any
      // supervisor: the next start fails, or two versions serve at once.
      const seen = await sigtermDuringSession(ctx);
      check(seen.exited, `the server process ${ctx.server.serverPid} to exit within ${seen.graceMs} ms of SIGTERM`, 'still running', seen.evidence);
      check(seen.leftovers.length === 0, 'no process of the server left', `${seen.leftovers.length} left (orphaned workers?)`,
        { ...seen.evidence, processes: seen.leftovers });
      return { message: `exited after ${seen.exitedAfterMs} ms`, evidence: seen.evidence };
    },
  },
  {
    id: 'lifecycle.sigterm', level: 'SHOULD', requirement: ['R8.3'],
    appliesTo: { models: 'all' }, tags: ['procfs', 'processes'],
    needsOwnServer: 'it stops the server with SIGTERM',
    title: 'SIGTERM during a session drains it: the owed acks are sent, no new session starts, exit code 0',
    description: 'Sends SIGTERM to the server process while a session is owed three acks, as lifecycle.sigterm.exits does. ' +
      'Once the listener is gone (or after 1 s × multiplier), a late client tries to connect and send one message. ' +
      'It also reads the server\'s exit status.',
    expectation: 'The busy session gets all 3 acks it is owed before the server exits; ' +
      'the server exits within (3 × D + 7 s) × multiplier of the signal, with status 0 as the launcher reports it; ' +
      'the late client gets no ack (a refused connect is the clean way).',
    why: 'A deploy sends SIGTERM while users wait for answers. A server that dies at once loses those answers, one that keeps ' +
      'accepting takes users it will never serve, and a non-zero status makes every routine stop look like a crash.',
    commonCauses: [
      'no SIGTERM handler, so the default action kills the process (status 143 from a shell)',
      'exit() in the handler before the owed acks are sent',
      'listener left open during the drain, so new clients are accepted and served',
      'work in progress cancelled by the shutdown (timers cleared, threads cancelled)',
    ],
    async run(ctx) {
      const seen = await sigtermDuringSession(ctx);
      const { busy, late } = seen;
      check(busy.acks === SIGTERM_OWED, `the session in progress gets the ${SIGTERM_OWED} acks it is owed`, describeReceived(busy), { ...seen.evidence, ...clientEvidence(busy) });
      check(seen.exited, `the server process to exit within ${seen.graceMs} ms`, 'still running', seen.evidence);
      const status = await exitStatusOf(ctx);
      check(status.code === 0, `exit code 0${status.via}`, status.seen, seen.evidence);
      const lateAcks = late?.acks ?? 0;
      check(lateAcks === 0, 'no new session served once the drain began', late ? describeReceived(late) : 'refused', seen.evidence);
    },
  },
  {
    id: 'lifecycle.worker-respawn', level: 'MUST', requirement: ['R8.4', 'R7.3'],
    appliesTo: { models: PROCESS_POOL_MODELS, because: 'the other models have no process pool to repair' },
    tags: ['procfs', 'processes'],
    needsOwnServer: 'it kills one of the server\'s workers',
    title: 'a killed worker process is reaped and replaced, and the capacity restored',
    description: 'Process-pool models only (prefork, master-worker). It waits for the workers, the direct children of the ' +
      'server process, kills one with SIGKILL and watches the children through /proc. ' +
      'Then it holds L + 1 sessions open (65 when unbounded) and counts those acked.',
    expectation: 'Within 5 s × multiplier of the kill, the killed worker is gone and is not a zombie, and the server has at ' +
      'least as many direct children as before the kill. Then at least L sessions acked (at least 64 of 65 when unbounded).',
    why: 'Workers die of crashes, of the out-of-memory killer, of an operator\'s kill. ' +
      'A master that neither reaps nor replaces them loses capacity one worker at a time, while it still holds the port and ' +
      'looks healthy to monitoring.',
    commonCauses: [
      'no SIGCHLD handler or waitpid() loop in the master, so the dead worker stays a zombie',
      'master that reaps but never forks a replacement',
      'replacement forked without the listening socket (closed in the master after the first forks)',
      'pool bookkeeping that keeps the dead worker\'s slot, so the new worker gets no clients',
    ],
    async run(ctx) {
      const d = ctx.deadlines;
      // Workers exist before the first client (prefork) or come up right after the start (master-worker).
      let workers = childrenOf(sampleTree(ctx.server), ctx.server.serverPid);
      const expected = ctx.target.workers;
      await pollUntil(() => (workers = childrenOf(sampleTree(ctx.server), ctx.server.serverPid)).length >= (expected ?? 1), d.slack() * 3);
      check(workers.length > 0, 'worker processes under the server', 'none');
      const victim = workers[0];
      process.kill(victim.pid, 'SIGKILL');
      let now = workers;
      const replaced = await pollUntil(() => {
        now = childrenOf(sampleTree(ctx.server), ctx.server.serverPid);
        return !now.some((p) => p.pid === victim.pid) && now.length >= workers.length;
      }, d.slack() * 5, 50);
      const zombie = listProcesses().find((p) => p.pid === victim.pid && p.state === 'Z');
      check(zombie === undefined, `the killed worker ${victim.pid} reaped`, `${describeProcess(zombie ?? victim)} is a zombie`);
      check(replaced, `${workers.length} workers again within ${d.slack() * 5} ms after killing ${victim.pid}`, `${now.length}`,
        { before: workers.map(describeProcess), after: now.map(describeProcess) });
      const held = await holdSessions(ctx);
      const limit = ctx.target.limit;
      const capacity = limit === 'unbounded' ? held.clients.length - 1 : limit;
      check(held.served.length >= capacity, `capacity back to ${limit === 'unbounded' ? `at least ${capacity}` : capacity} sessions at once`,
        `${held.served.length} served`);
      return { message: `worker ${victim.pid} replaced; ${held.served.length} sessions served at once` };
    },
  },
];
