/**
 * Splitting a run's targets across machines (`--shard I/N`): what each target is expected to cost, and
 * a partition balanced by that cost. Pure: every machine that computes it from the same targets, cases
 * and recorded durations gets the same partition, so no machine's speed, cores or tools may enter it.
 */
import { appliesToModel } from './cases/applies-to';
import { ConformanceCase } from './cases/types';
import { crowdsAreHeavy } from './harness/models';
import { Target } from './harness/target';

/** Shard `index` of `count`, counted from 1. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** A server started (and stopped) per case, in ms. */
const LAUNCH_MS = 500;
/** A case waits out a few work delays: its acks, a quiet window, a crowd's waves. */
const DELAYS_PER_CASE = 5;
/** A `slow` case measures over seconds whatever the delay (CPU over 2 s, a flood, a warm-up). */
const SLOW_CASE_MS = 2000;
/** A crowd that starts a process (an interpreter) per session takes the machine alone, and long. */
const HEAVY_CROWD_FACTOR = 3;
/**
 * Cases a target runs side by side in the estimate. A fixed port runs one at a time. The machine's own
 * --jobs is left out on purpose: it differs between machines, the partition must not.
 */
const SIDE_BY_SIDE = 4;

/** The work delay a case runs the target at (a case may ask for another where the command takes {delayMs}). */
function delayOf(c: ConformanceCase, target: Target): number {
  const wanted = typeof c.delayOverride === 'function' ? c.delayOverride(target, 1) : c.delayOverride;
  return wanted !== undefined && target.cmd.includes('{delayMs}') ? wanted : target.delayMs;
}

/**
 * What checking `target` with `cases` is expected to take, in ms of wall time: each case that applies
 * to its model costs a launch, a few work delays, more when it is slow, much more when it brings a crowd
 * of heavy processes; a target on a fixed port runs its cases one at a time.
 */
export function estimateMs(target: Target, cases: readonly ConformanceCase[]): number {
  const heavy = crowdsAreHeavy(target);
  const serial = cases
    .filter((c) => appliesToModel(c.appliesTo, target.model, target.limit))
    .reduce((sum, c) => {
      const cost = LAUNCH_MS + DELAYS_PER_CASE * delayOf(c, target) + (c.tags.includes('slow') ? SLOW_CASE_MS : 0);
      return sum + (heavy && c.tags.includes('exclusive') ? HEAVY_CROWD_FACTOR * cost : cost);
    }, 0);
  return Math.round(target.port !== undefined ? serial : serial / SIDE_BY_SIDE);
}

/**
 * Each target's cost: its recorded duration where `recorded` has its name, else its estimate. Where some
 * are recorded, the estimates are scaled by how the recorded ones compare with theirs, so that the two
 * kinds of figure weigh alike on the machine that recorded them.
 */
export function targetCosts(targets: readonly Target[], cases: readonly ConformanceCase[], recorded: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  const estimates = new Map(targets.map((t) => [t.name, estimateMs(t, cases)]));
  const known = targets.filter((t) => recorded.has(t.name));
  const estimatedOfKnown = known.reduce((sum, t) => sum + (estimates.get(t.name) ?? 0), 0);
  const recordedOfKnown = known.reduce((sum, t) => sum + (recorded.get(t.name) ?? 0), 0);
  const scale = estimatedOfKnown > 0 && recordedOfKnown > 0 ? recordedOfKnown / estimatedOfKnown : 1;
  return new Map(targets.map((t) => [t.name, recorded.get(t.name) ?? Math.round((estimates.get(t.name) ?? 0) * scale)]));
}

/**
 * Splits named costs into `count` shards: the costliest first, each into the least loaded shard (the
 * first of equals), equal costs in name order. Every name lands in exactly one shard; each shard lists
 * its names in the order they were given.
 */
export function partition(costs: ReadonlyMap<string, number>, count: number): string[][] {
  const order = [...costs.keys()];
  const byCost = [...order].sort((a, b) => (costs.get(b) ?? 0) - (costs.get(a) ?? 0) || (a < b ? -1 : a > b ? 1 : 0));
  const loads = new Array<number>(count).fill(0);
  const shardOf = new Map<string, number>();
  for (const name of byCost) {
    const least = loads.indexOf(Math.min(...loads));
    loads[least] += costs.get(name) ?? 0;
    shardOf.set(name, least);
  }
  return loads.map((_, i) => order.filter((name) => shardOf.get(name) === i));
}

/** The targets of shard `spec` (in their given order), balanced by `costs`. */
export function shareOf<T extends { name: string }>(targets: readonly T[], spec: ShardSpec, costs: ReadonlyMap<string, number>): T[] {
  const mine = new Set(partition(costs, spec.count)[spec.index - 1]);
  return targets.filter((t) => mine.has(t.name));
}
