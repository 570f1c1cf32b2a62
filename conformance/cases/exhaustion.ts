import { ProtocolClient } from '../harness/client';
import { pollUntil, waitUntilSettled } from '../harness/deadlines';
import { setSoftFdLimit } from '../harness/fd-limits';
import { onPath } from '../harness/listen-backlog';
import { crowdsAreHeavy } from '../harness/models';
import { processTree, runnableNs, runnableShare } from '../harness/procfs';
import { countBy, describeFdCounts, fdsByKind, holdsConnections, sampleTree } from '../harness/tree-probe';
import { CaseBlocked, CaseContext, ConformanceCase, check } from './types';
import { clientEvidence, describeReceived, howServerEnded } from './evidence';
import { cpuShare, stableBaseline, ticksPerProcess, warmUp } from './resource-helpers';

/** Descriptors each server process may open beyond what it holds at rest once its limit is lowered. */
export const FD_MARGIN = 4;
/** Clients that connect while the server is out of descriptors: far more than the margin. */
export const FD_CROWD = 30;
/**
 * A server out of descriptors must not spin: a level-triggered listener that stays readable while
 * accept() fails with EMFILE wakes the loop at once, for ever (100% of a core). Backing off (a paused
 * listener, a short sleep, libuv's spare descriptor) costs next to nothing. A quarter of a core leaves
 * room for a busy machine and for the sessions still being served.
 */
export const FD_SPIN_SHARE = 0.25;
/**
 * On a loaded machine a spinning loop gets less than its core, but it is runnable all the time: a
 * server runnable (running or waiting for a CPU) for three quarters of the window spins however little
 * CPU it was given. A server that waits for descriptors sleeps; its few accepts cannot add up to that.
 */
export const FD_SPIN_RUNNABLE = 0.75;
/** The window over which CPU use is measured while the crowd waits: a spinning loop shows within a second. */
const CPU_WINDOW_MS = 1000;

/** Dying of the shortage is what this case is about: a failure, not a measurement that could not be made. */
function stillAlive(ctx: CaseContext, when: string, evidence: Record<string, unknown>): void {
  check(ctx.server.serverAlive(), 'the server alive', `it died ${when} (${howServerEnded(ctx.server)})`, evidence);
}

/** resources.fd-exhaustion: running out of descriptors is survived, without spinning. */
export const exhaustionCases: ConformanceCase[] = [
  {
    id: 'resources.fd-exhaustion', level: 'MUST', requirement: ['R7.6'],
    appliesTo: { models: 'all' }, tags: ['procfs', 'processes', 'exclusive', 'slow'],
    needsOwnServer: 'it lowers the server\'s descriptor limit',
    // The server's own CPU use is what is judged: neighbours cannot make it spin. Only a crowd that
    // costs a process each needs the machine alone.
    exclusive: crowdsAreHeavy,
    title: `out of descriptors (soft limit lowered to what it holds + ${FD_MARGIN}, ${FD_CROWD} clients arrive): the server stays up, does not spin, keeps serving its sessions, and serves again once they leave`,
    description: 'After a warm-up, one client connects and the kit waits until the server holds it; ' +
      'then each server process gets a soft descriptor limit of what it holds plus 4 (prlimit), and 30 clients connect without ' +
      'sending. The case measures the tree\'s CPU use over 1 s, has the held client send one message, then closes every client ' +
      'and tries new ones.',
    expectation: 'The server stays alive, uses under 25% of one core over the 1 s window (not scaled), and acks the held ' +
      'client within (D + 2 s) × multiplier. Once the others have closed, a new client, retried until then, is acked within ' +
      '(D + 4 s) × multiplier. The case is skipped when prlimit (util-linux) is not installed.',
    why: 'Descriptors run out at the worst moment, at peak load. A server that exits then drops every user at once, and one ' +
      'that spins on accept() starves the sessions it already holds.',
    commonCauses: [
      'accept() retried at once on EMFILE while the listener stays readable (level-triggered)',
      'exit or uncaught exception on EMFILE from accept()',
      'listener paused on EMFILE and never resumed',
      'accept retry loop on the thread that also serves the held sessions',
    ],
    skipReason: () => (onPath('prlimit') ? undefined : 'prlimit (util-linux) is not installed: the kit cannot lower the server\'s descriptor limit'),
    async run(ctx) {
      const d = ctx.deadlines;
      const evidence = await warmUp(ctx);
      // A session the server holds through the shortage: accepted before it, it sends its first message
      // during it and must be answered (one session, its first message: this case is about descriptors,
      // not about how many sessions or messages the server serves).
      const heldCount = 1;
      const beforeHeld = sampleTree(ctx.server);
      const held: ProtocolClient[] = [];
      for (let i = 0; i < heldCount; i++) held.push(await ctx.connect(`held ${i + 1}`));
      const accepted = (): boolean => holdsConnections(sampleTree(ctx.server), held, beforeHeld);
      await pollUntil(accepted, d.slack() * 2, 20);
      await stableBaseline(ctx, (s) => s.fds.length);
      const rest = sampleTree(ctx.server);
      // Every process of the server gets its own limit: what it holds now plus the margin. Processes
      // forked later (a child per connection) inherit their parent's.
      const limits: string[] = [];
      for (const p of rest.processes) {
        const holds = rest.fds.filter((f) => f.pid === p.pid).length;
        const error = setSoftFdLimit(p.pid, holds + FD_MARGIN);
        if (error && ctx.server.serverAlive()) throw new CaseBlocked(`cannot lower the descriptor limit of ${p.pid}: ${error}`, [], evidence);
        limits.push(`${p.pid}(${p.comm}): ${holds} held, limit ${holds + FD_MARGIN}`);
      }
      Object.assign(evidence, { limits: limits.join('; '), atRest: describeFdCounts(fdsByKind(rest)) });

      // The crowd only connects: a server that accepts it spends a descriptor each, and it owes them no
      // work (so a serial server is not kept busy after they leave). A connect may time out if the accept
      // queue is full: that is the backlog case's business.
      const arrivals = await Promise.all(Array.from({ length: FD_CROWD }, (_, i) => ctx.connect(`crowd ${i + 1}`).catch(() => undefined)));
      const crowd = arrivals.filter((c): c is ProtocolClient => c !== undefined);
      // A server that starts a process per connection may take the whole crowd (each child holds one
      // descriptor) and pays for it in forks: the window opens once its process count holds still, so
      // the model's price is not taken for spinning. A spinning server spins on.
      await waitUntilSettled(() => processTree(ctx.server.serverPid).length, d.settle(), d.slack() * 3);
      const before = sampleTree(ctx.server);
      const runnableBefore = runnableNs(before.processes.map((p) => p.pid));
      // A measurement window, not a wait for a condition: CPU use is only defined over time. It ends
      // early if the server dies.
      await pollUntil(() => !ctx.server.serverAlive(), CPU_WINDOW_MS, 50);
      stillAlive(ctx, 'when it ran out of descriptors', evidence);
      const after = sampleTree(ctx.server);
      const share = cpuShare(before, after);
      const runnable = runnableShare(runnableBefore, runnableNs(after.processes.map((p) => p.pid)), after.at - before.at);
      Object.assign(evidence, {
        cpuShare: `${(share * 100).toFixed(1)}% of a core over ${after.at - before.at} ms`,
        ...(runnable === undefined ? {} : { runnable: `${(runnable * 100).toFixed(1)}% of the window (running or waiting for a CPU)` }),
        perProcess: ticksPerProcess(before, after).join('; '),
        descriptorsNow: describeFdCounts(fdsByKind(after)),
        crowdConnected: `${crowd.length} of ${FD_CROWD}`,
        crowdAcked: crowd.filter((c) => c.acks > 0).length,
        crowdClosedByServer: crowd.filter((c) => c.ending).length,
      });
      check(share < FD_SPIN_SHARE && (runnable ?? 0) < FD_SPIN_RUNNABLE,
        `under ${FD_SPIN_SHARE * 100}% of a core, and runnable under ${FD_SPIN_RUNNABLE * 100}% of the time, while clients wait for descriptors`,
        `${share >= FD_SPIN_SHARE ? `${(share * 100).toFixed(1)}% of a core` : `runnable ${((runnable ?? 0) * 100).toFixed(1)}% of the time (given ${(share * 100).toFixed(1)}% of a core on a busy machine)`}` +
          ': the server spins (a readable listener whose accept() fails, retried at once?)', evidence);

      // The sessions it held are still served.
      await Promise.all(held.map((c) => c.send('during the shortage')));
      await Promise.all(held.map((c) => c.waitForAcks(1, d.ack(1))));
      const starved = held.filter((c) => c.acks < 1);
      stillAlive(ctx, 'serving its sessions while out of descriptors', evidence);
      check(starved.length === 0, `the ${heldCount} sessions it held acked within ${d.ack(1)} ms while out of descriptors`,
        starved.map(describeReceived).join(', '), { ...evidence, ...clientEvidence(starved[0] ?? held[0]) });

      // The crowd leaves; the server must take new clients again. Until it has noticed (a paused socket
      // it has not read yet still holds its descriptor), a new client may be turned away: like a real
      // one, it tries again until the deadline.
      for (const c of [...crowd, ...held]) c.close();
      const deadline = Date.now() + d.ack(1) + d.slack() * 2;
      let attempts = 0;
      let next: ProtocolClient | undefined;
      while (Date.now() < deadline && ctx.server.serverAlive() && !(next && next.acks > 0)) {
        attempts++;
        next = await ctx.connect(`after the shortage, try ${attempts}`).catch(() => undefined);
        await next?.send('served again?');
        await pollUntil(() => next === undefined || next.acks > 0 || next.ending !== undefined || !ctx.server.serverAlive(), Math.max(0, deadline - Date.now()));
      }
      stillAlive(ctx, 'after the crowd left', evidence);
      if (!(next && next.acks > 0)) {
        const now = sampleTree(ctx.server);
        evidence.afterTheCrowd = ctx.server.serverPids().map((pid) => `${pid}: ${describeFdCounts(countBy(now.fds.filter((f) => f.pid === pid).map((f) => f.label)))}`).join('; ');
      }
      check(next !== undefined && next.acks > 0, `a new client served within ${d.ack(1) + d.slack() * 2} ms once the crowd left`,
        `${attempts} tries, the last: ${next ? describeReceived(next) : 'no connection'}`, { ...evidence, ...(next ? clientEvidence(next) : {}) });
      return { message: `${(share * 100).toFixed(1)}% of a core while out of descriptors; held sessions served; a new client served after`, evidence };
    },
  },
];
