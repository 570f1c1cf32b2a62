/** --shard and --durations, which `check --manifest` and `matrix` take alike. */
import { ConformanceCase } from '../cases/types';
import { Target } from '../harness/target';
import { ShardInfo } from '../reports/run-report';
import { ShardSpec, shareOf, targetCosts } from '../shard';
import { stringFlags, UsageError } from '../flags';
import { readReportFile } from './read-report';

export const SHARD_FLAGS = stringFlags('shard', 'durations');

/** The help of --shard and --durations, for a command whose targets are called `noun`s. */
export function shardHelp(noun: string): string {
  return `Sharding (split the run across machines, then join their JSON reports with merge-reports):
  --shard <i>/<n>            check only shard i of n (1-based): a stable share of the ${noun}s, the
                             same on every machine, balanced by how long each ${noun} takes
  --durations <file>         a JSON report of an earlier run (check, matrix or merge-reports --json):
                             its implementations' durationMs balance the shards; without it, or for
                             a ${noun} it lacks, an estimate from the model, the delay and the cases
A shard's JSON report records the shard and every ${noun} of the run (its "shard" field).`;
}

/** The value of --shard, `I/N` with 1 ≤ I ≤ N, or undefined when absent. */
export function shardFlag(value: string | undefined): ShardSpec | undefined {
  if (value === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const [index, count] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!(index >= 1 && index <= count)) throw new UsageError(`--shard must be I/N, shard I of N with 1 ≤ I ≤ N (e.g. 1/3), got "${value}"`);
  return { index, count };
}

/** The duration each implementation of an earlier JSON report took, by name. */
export function loadDurations(file: string): Map<string, number> {
  const report = readReportFile(file);
  return new Map(report.implementations.filter((i) => typeof i.durationMs === 'number').map((i) => [i.name, i.durationMs as number]));
}

/** The targets a run checks and the shard its report records: every target without --shard. */
export interface Share<T> {
  targets: T[];
  shard?: ShardInfo;
}

/** The share of `all` (in the run's order) that --shard picks, balanced by --durations or the estimate. */
export function shareFromFlags<T extends Target>(all: T[], cases: readonly ConformanceCase[], values: { shard?: string; durations?: string }): Share<T> {
  const spec = shardFlag(values.shard);
  if (spec === undefined) {
    if (values.durations !== undefined) throw new UsageError('--durations balances shards: give it with --shard');
    return { targets: all };
  }
  const recorded = values.durations === undefined ? undefined : loadDurations(values.durations);
  const targets = shareOf(all, spec, targetCosts(all, cases, recorded));
  return { targets, shard: { ...spec, targets: all.map((t) => t.name) } };
}

/** One line that says what a shard holds: "shard 1/3: 2 of 5 targets (a, b)", or that it holds nothing. */
export function describeShare<T extends { name: string }>(share: Share<T>, noun: string): string | undefined {
  const { shard, targets } = share;
  if (shard === undefined) return undefined;
  const of = `${shard.index}/${shard.count}`;
  if (targets.length === 0) return `shard ${of} gets no ${noun} (${shard.targets.length} ${noun}s in ${shard.count} shards): nothing to check`;
  return `shard ${of}: ${targets.length} of ${shard.targets.length} ${noun}s (${targets.map((t) => t.name).join(', ')})`;
}
