import { CaseFailure, ConformanceCase, Exercise, check } from '../../cases/types';
import { makeDeadlines } from '../../harness/deadlines';
import { stopAllTargets } from '../../harness/launcher';
import { resolveTarget } from '../../harness/target';
import { referenceTarget } from '../../reference';
import { CHAIN_LENGTH, planBatches, planUnits, runSuite } from '../../runner';
import { formatTimings, summarizeTimings } from '../../reports/timings';
import { caseDefaults } from '../case-defaults';

afterAll(() => stopAllTargets());

const target = resolveTarget(referenceTarget('event-loop', 'ts', 100));
const deadlines = makeDeadlines(100, 1);

/** Cases that record which server they saw and how often their exercise ran. */
function sharing(exercise: Exercise<number>, seen: Map<string, number>): ConformanceCase[] {
  return ['a', 'b', 'c'].map((name) => ({
    ...caseDefaults, id: `shared.${name}`, level: 'MUST' as const, title: name, exercise,
    async run(ctx) {
      const observed = await ctx.exercised(exercise);
      seen.set(name, ctx.server.serverPid);
      if (name === 'b') throw new CaseFailure('b to pass', `b failed on observation ${observed}`);
      return { message: `observation ${observed}` };
    },
  }));
}

describe('cases sharing a server', () => {
  test('run on one server with one run of the exercise, each with its own outcome; others get their own server', async () => {
    let runs = 0;
    const exercise: Exercise<number> = { id: 'count', async run(ctx) {
      const c = await ctx.connect('exercise session');
      await c.send('hello');
      await c.waitForAcks(1, ctx.deadlines.ack(1));
      return ++runs;
    } };
    const seen = new Map<string, number>();
    const alone: ConformanceCase = { ...caseDefaults, id: 'alone.x', level: 'MUST', title: 'alone', async run(ctx) { seen.set('alone', ctx.server.serverPid); } };
    const [a, b, c] = sharing(exercise, seen);
    const cases = [a, alone, b, c];
    expect(planUnits(cases).map((u) => u.map((x) => x.id))).toEqual([['shared.a', 'shared.b', 'shared.c'], ['alone.x']]);
    const results = await runSuite(target, cases, { deadlines, jobs: 2 });
    expect(runs).toBe(1);
    expect(results.map((r) => [r.id, r.outcome])).toEqual([['shared.a', 'pass'], ['alone.x', 'pass'], ['shared.b', 'fail'], ['shared.c', 'pass']]);
    expect(new Set([seen.get('a'), seen.get('b'), seen.get('c')]).size).toBe(1);
    expect(seen.get('alone')).not.toBe(seen.get('a'));
    // every case of the unit shows the exercise's session; the launch is counted once, on the first
    expect(results[3].sessions?.map((s) => s.label)).toEqual(['exercise session']);
    expect(results[0].timing?.shared).toEqual(['shared.b', 'shared.c']);
    expect(results.filter((r) => (r.timing?.launchMs ?? 0) > 0).map((r) => r.id).sort()).toEqual(['alone.x', 'shared.a']);
  });

  test('a failed exercise fails every case that judges it, the same way', async () => {
    const exercise: Exercise<number> = { id: 'broken', async run() { throw new CaseFailure('an ack', 'nothing'); } };
    const results = await runSuite(target, sharing(exercise, new Map()), { deadlines, probe: false });
    expect(results.map((r) => [r.outcome, r.actual])).toEqual([['fail', 'nothing'], ['fail', 'nothing'], ['fail', 'nothing']]);
  });

  test('units that need the machine alone form one batch, first', () => {
    const mk = (id: string, exclusive: boolean): ConformanceCase => ({ ...caseDefaults, id, level: 'MUST', title: id, exclusive, async run() { /* not run */ } });
    const batches = planBatches([mk('s.1', false), mk('x.1', true), mk('s.2', false), mk('x.2', true)], target, deadlines);
    expect(batches.map((b) => b.map((plan) => plan.unit.map((c) => c.id)))).toEqual([[['x.1'], ['x.2']], [['s.1']], [['s.2']]]);
  });

  test('cases that may share a server form chains of at most CHAIN_LENGTH, apart from the others', () => {
    const mk = (id: string, sharesServer: boolean): ConformanceCase => ({ ...caseDefaults, id, level: 'MUST', title: id, sharesServer, async run() { /* not run */ } });
    const cases = [mk('s.1', true), mk('s.2', true), mk('x.1', false), mk('s.3', true), mk('s.4', true), mk('s.5', true)];
    expect(CHAIN_LENGTH).toBe(4);
    expect(planUnits(cases).map((u) => u.map((c) => c.id))).toEqual([['s.1', 's.2', 's.3', 's.4'], ['x.1'], ['s.5']]);
    // a fixed port runs one case at a time: one chain
    const fixed = planBatches(cases, { ...target, port: 3000 }, deadlines);
    expect(fixed.map((b) => b.map((plan) => plan.unit.map((c) => c.id)))).toEqual([[['s.1', 's.2', 's.3', 's.4', 's.5']], [['x.1']]]);
  });

  test('a chained case that does not pass on a used server is judged again on a fresh one; the next case gets a fresh server', async () => {
    const servers = new Map<string, number[]>();
    const used = new Set<number>();
    const chained = (id: string, fails: (pid: number) => boolean): ConformanceCase => ({
      ...caseDefaults, id, level: 'MUST', title: id, sharesServer: true,
      async run(ctx) {
        const pid = ctx.server.serverPid;
        servers.set(id, [...(servers.get(id) ?? []), pid]);
        const c = await ctx.connect(`${id} session`);
        await c.send('hello');
        check(await c.waitForAcks(1, ctx.deadlines.ack(1)), 'an ack', 'none');
        const failing = fails(pid);
        used.add(pid);
        if (failing) throw new CaseFailure(`${id} to pass`, `${id} failed on server ${pid}`);
      },
    });
    const cases = [
      chained('chain.a', () => false),
      chained('chain.b', (pid) => used.has(pid)), // fails only where an earlier case ran
      chained('chain.c', () => true), // a real failure: fails fresh too
      chained('chain.d', () => false),
    ];
    const results = await runSuite(target, cases, { deadlines, probe: false });
    expect(results.map((r) => [r.id, r.outcome])).toEqual([['chain.a', 'pass'], ['chain.b', 'pass'], ['chain.c', 'fail'], ['chain.d', 'pass']]);
    const [[a], [b1, b2], [c1, c2], [d]] = ['chain.a', 'chain.b', 'chain.c', 'chain.d'].map((id) => servers.get(id) as number[]);
    expect(b1).toBe(a); // b first ran where a had run...
    expect(b2).not.toBe(a); // ...and its reported verdict is from a fresh server
    expect(c1).toBe(b2); // c ran on b's server, which had passed
    expect(c2).not.toBe(c1); // judged again fresh, failed again: a real failure
    expect(d).not.toBe(c2); // a server that failed a case serves no more cases
    expect(results[1]).toMatchObject({ evidence: { onUsedServer: expect.stringMatching(/^fail: /) }, timing: { retriedFresh: true } });
    expect(results[2].timing?.retriedFresh).toBe(true);
    expect(results[0].timing?.retriedFresh).toBeUndefined();
    // each case shows its own sessions only: the reported run's
    expect(results.map((r) => r.sessions?.map((s) => s.label))).toEqual([['chain.a session'], ['chain.b session'], ['chain.c session'], ['chain.d session']]);
  });

  test('--timings adds up what the cases report', () => {
    const t = summarizeTimings({ name: 'srv', model: 'event-loop', cmd: 'srv', delayMs: 100, limit: 'unbounded', durationMs: 4000, jobs: 2, cases: [
      { id: 'a', level: 'MUST', title: 'a', outcome: 'pass', durationMs: 0, timing: { lockWaitMs: 100, launchMs: 300, runMs: 1000, stopMs: 50, shared: ['b'] } },
      { id: 'b', level: 'MUST', title: 'b', outcome: 'pass', durationMs: 0, timing: { lockWaitMs: 0, launchMs: 0, runMs: 200, stopMs: 40 } },
      { id: 'c', level: 'MUST', title: 'c', outcome: 'skip', durationMs: 0 },
    ] });
    expect(t).toMatchObject({ wallMs: 4000, jobs: 2, launches: 1, insideMs: 1200, launchMs: 300, stopMs: 90, lockWaitMs: 100 });
    expect(t.slowest.map((s) => s.id)).toEqual(['a', 'b']);
    expect(formatTimings(t).join('\n')).toMatch(/^timings srv: 4\.0 s wall with 2 jobs; 1\.2 s inside cases; launch 0\.3 s \+ stop 0\.1 s \(1 server, 390 ms each\); 0\.1 s waiting for the machine lock\n {2}slowest: a \(\+1 sharing its server\) 1\.4 s, b 0\.2 s$/);
  });
});
