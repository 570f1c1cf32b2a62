import fc from 'fast-check';
import { allCases, matchCases } from '../../cases';
import { ModelName } from '../../harness/models';
import { resolveTarget, Target } from '../../harness/target';
import { estimateMs, partition, shareOf, targetCosts } from '../../shard';

const costs = (entries: [string, number][]): Map<string, number> => new Map(entries);
const loads = (shards: string[][], c: Map<string, number>): number[] => shards.map((s) => s.reduce((sum, n) => sum + (c.get(n) ?? 0), 0));
const target = (name: string, model: ModelName, extra: Partial<Target> = {}): Target =>
  resolveTarget({ name, cmd: `srv --port {port} --delay-ms {delayMs}`, model, delayMs: 100, ...extra });

describe('partition', () => {
  test('balances by the given durations: 10, 9, 2, 1, 1 into 2 shards is 11 / 12, not 19 / 4', () => {
    const c = costs([['a', 10], ['b', 9], ['c', 2], ['d', 1], ['e', 1]]);
    const shards = partition(c, 2);
    expect(loads(shards, c).sort((x, y) => x - y)).toEqual([11, 12]);
    expect(shards).toEqual([['a', 'd', 'e'], ['b', 'c']]);
  });

  test('every name lands in exactly one shard, each shard in the given order, for any costs and count', () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), fc.nat(1000)), { selector: ([n]) => n, maxLength: 20 }),
      fc.integer({ min: 1, max: 8 }),
      (entries, count) => {
        const shards = partition(costs(entries), count);
        expect(shards).toHaveLength(count);
        const names = entries.map(([n]) => n);
        expect(shards.flat().sort()).toEqual([...names].sort());
        for (const shard of shards) expect(shard).toEqual(names.filter((n) => shard.includes(n)));
      },
    ));
  });

  test('stable: the same costs give the same partition, whatever order they come in', () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), fc.nat(5)), { selector: ([n]) => n, minLength: 1, maxLength: 12 }),
      fc.integer({ min: 1, max: 5 }),
      (entries, count) => {
        const asSets = (shards: string[][]) => shards.map((s) => [...s].sort());
        const once = partition(costs(entries), count);
        expect(partition(costs(entries), count)).toEqual(once);
        expect(asSets(partition(costs([...entries].reverse()), count))).toEqual(asSets(once));
      },
    ));
  });

  test('equal costs are dealt in name order; more shards than names leaves the last ones empty', () => {
    expect(partition(costs([['c', 5], ['a', 5], ['b', 5]]), 2)).toEqual([['c', 'a'], ['b']]);
    expect(partition(costs([['x', 1], ['y', 2]]), 4)).toEqual([['y'], ['x'], [], []]);
  });

  test('shareOf: the targets of one shard, in their order', () => {
    const targets = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name }));
    const c = costs([['a', 10], ['b', 9], ['c', 2], ['d', 1], ['e', 1]]);
    expect(shareOf(targets, { index: 1, count: 2 }, c).map((t) => t.name)).toEqual(['a', 'd', 'e']);
    expect(shareOf(targets, { index: 2, count: 2 }, c).map((t) => t.name)).toEqual(['b', 'c']);
  });
});

describe('estimateMs: what a target is expected to cost without a recorded duration', () => {
  test('a process per session, whose crowds are heavy, costs more than an event loop at the same delay', () => {
    expect(estimateMs(target('fork', 'fork-per-connection'), allCases)).toBeGreaterThan(estimateMs(target('loop', 'event-loop'), allCases));
    // a bare fork() weighed light (as the runner may measure it) costs no more than its cases
    const light = { ...target('fork', 'fork-per-connection'), crowdWeight: 'light' as const };
    expect(estimateMs(light, allCases)).toBeLessThan(estimateMs(target('fork', 'fork-per-connection'), allCases));
  });

  test('a longer delay, more cases that apply, a fixed port (one case at a time) cost more', () => {
    const loop = target('loop', 'event-loop');
    expect(estimateMs(target('loop', 'event-loop', { delayMs: 2000 }), allCases)).toBeGreaterThan(estimateMs(loop, allCases));
    expect(estimateMs(loop, allCases)).toBeGreaterThan(estimateMs(loop, matchCases('protocol.*')));
    // worker-respawn applies to prefork, not to a thread pool of the same size
    expect(estimateMs(target('p', 'prefork'), allCases)).toBeGreaterThan(estimateMs(target('t', 'thread-pool'), allCases));
    expect(estimateMs(resolveTarget({ name: 'f', cmd: './srv', model: 'event-loop', delayMs: 100, port: 8080 }), allCases)).toBeGreaterThan(estimateMs(loop, allCases));
  });

  test('cases that do not apply to the model cost nothing', () => {
    const respawn = matchCases('lifecycle.worker-respawn');
    expect(estimateMs(target('loop', 'event-loop'), respawn)).toBe(0);
    expect(estimateMs(target('p', 'prefork'), respawn)).toBeGreaterThan(0);
  });
});

describe('targetCosts', () => {
  const targets = [target('fork', 'fork-per-connection'), target('loop', 'event-loop'), target('single', 'single-process')];

  test('without recorded durations: the estimates', () => {
    expect([...targetCosts(targets, allCases).entries()]).toEqual(targets.map((t) => [t.name, estimateMs(t, allCases)]));
  });

  test('recorded durations replace the estimates; the others are scaled like the recorded ones', () => {
    const recorded = new Map([['loop', 3 * estimateMs(targets[1], allCases)], ['elsewhere', 99]]);
    const c = targetCosts(targets, allCases, recorded);
    expect(c.get('loop')).toBe(recorded.get('loop'));
    expect(c.get('fork')).toBe(Math.round(3 * estimateMs(targets[0], allCases)));
    expect(c.has('elsewhere')).toBe(false);
  });

  test('recorded durations decide the partition', () => {
    const recorded = new Map([['fork', 1], ['loop', 50_000], ['single', 40_000]]);
    expect(partition(targetCosts(targets, allCases, recorded), 2)).toEqual([['loop'], ['fork', 'single']]);
  });
});
