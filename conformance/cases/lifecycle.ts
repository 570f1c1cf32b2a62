import { frame, ProtocolClient } from '../harness/client';
import { listensOn } from '../harness/launcher';
import { pollUntil } from '../harness/deadlines';
import { hasProcessPool } from '../harness/models';
import { listProcesses } from '../harness/procfs';
import { childrenOf, describeProcess, sampleTree } from '../harness/tree-probe';
import { ConformanceCase, check } from './types';
import { clientEvidence, describeReceived } from './evidence';
import { holdSessions } from './concurrency';

/** Base time a server gets from its start to listening, before the multiplier. */
export const READY_BOUND_MS = 5000;

/** lifecycle.*: start, stop and self-repair. */
export const lifecycleCases: ConformanceCase[] = [
  {
    id: 'lifecycle.ready',
    level: 'MUST',
    title: `the server listens within ${READY_BOUND_MS / 1000} s of its start`,
    async run(ctx) {
      const bound = Math.ceil(READY_BOUND_MS * ctx.deadlines.multiplier);
      check(ctx.server.readyAfterMs <= bound, `listening within ${bound} ms`, `after ${ctx.server.readyAfterMs} ms`);
      return { message: `listening after ${ctx.server.readyAfterMs} ms` };
    },
  },
  {
    id: 'lifecycle.sigterm',
    level: 'SHOULD',
    needsProcfs: true,
    title: 'SIGTERM during a session: the owed ack is sent, no new session starts, the tree exits 0 and leaves nothing',
    async run(ctx) {
      const d = ctx.deadlines;
      const owed = 3;
      const busy = await ctx.connect('session in progress');
      await busy.write(Buffer.concat(Array.from({ length: owed }, (_, i) => frame(`finish me ${i + 1}`))));
      // "During a session": wait until the tree holds our connection (accepted, not in the backlog).
      const accepted = await pollUntil(() => sampleTree(ctx.server).tcpSockets.some((h) => h.row.remotePort === busy.localPort), d.slack());
      check(accepted, 'the server to accept the session', 'it stayed in the backlog');
      const members = ctx.server.memberPids();
      process.kill(ctx.server.pid, 'SIGTERM');
      // The signal is asynchronous: a client racing it may still be accepted. Wait until the tree's
      // listening socket is gone (the drain has visibly begun) before trying a new session.
      await pollUntil(() => listensOn(ctx.server.memberPids(), ctx.server.port) === undefined, d.slack());
      let late: ProtocolClient | undefined;
      try {
        late = await ctx.connect('after SIGTERM');
        await late.send('too late?');
      } catch {
        late = undefined; // refused: the listener is closed, as it should be
      }
      await busy.waitForAcks(owed, d.ack(owed));
      check(busy.acks === owed, `the session in progress gets the ${owed} acks it is owed`, describeReceived(busy), clientEvidence(busy));
      const grace = d.ack(owed) + d.slack() * 5; // servers drain within their own grace period (5 s by default)
      const exited = await pollUntil(() => ctx.server.exitStatus() !== undefined, grace);
      const exit = ctx.server.exitStatus();
      check(exited && exit !== undefined, `the server to exit within ${grace} ms`, 'still running');
      check(exit.code === 0, 'exit code 0', exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`);
      const leftovers = (): string[] => {
        const live = listProcesses().filter((p) => p.state !== 'Z');
        const suspects = new Set([...members, ...ctx.server.memberPids()]);
        return live.filter((p) => suspects.has(p.pid)).map(describeProcess);
      };
      await pollUntil(() => leftovers().length === 0, d.slack());
      check(leftovers().length === 0, 'no process of the tree left', `${leftovers().length} left`, { processes: leftovers() });
      const lateAcks = late?.acks ?? 0;
      check(lateAcks === 0, 'no new session served once the drain began', late ? describeReceived(late) : 'refused');
    },
  },
  {
    id: 'lifecycle.worker-respawn',
    level: 'MUST',
    needsProcfs: true,
    title: 'a killed worker process is reaped and replaced, and the capacity restored',
    skipReason: (t) => (hasProcessPool(t.model) ? undefined : `${t.model} has no process pool to repair`),
    async run(ctx) {
      const d = ctx.deadlines;
      // Workers exist before the first client (prefork) or come up right after the start (master-worker).
      let workers = childrenOf(sampleTree(ctx.server), ctx.server.pid);
      const expected = ctx.target.workers;
      await pollUntil(() => (workers = childrenOf(sampleTree(ctx.server), ctx.server.pid)).length >= (expected ?? 1), d.slack() * 3);
      check(workers.length > 0, 'worker processes under the server', 'none');
      const victim = workers[0];
      process.kill(victim.pid, 'SIGKILL');
      let now = workers;
      const replaced = await pollUntil(() => {
        now = childrenOf(sampleTree(ctx.server), ctx.server.pid);
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
