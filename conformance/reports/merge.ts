import { ImplementationReport, RunReport, ShardInfo } from './run-report';

/** Reports that cannot be joined: which files, and why, in one line. */
export class MergeError extends Error {
  override name = 'MergeError';
}

/** A report read back from its JSON file, with the file's name for messages. */
export interface ReportFile {
  file: string;
  report: RunReport;
}

/** The shard a report records; joinShards is given only reports that record one. */
const shardOf = (r: ReportFile): ShardInfo => r.report.shard as ShardInfo;
const shardText = (r: ReportFile): string => `${shardOf(r).index}/${shardOf(r).count} (${r.file})`;

/** The shards of one run, all of them once each: their implementations in the run's order. */
function joinShards(inputs: ReportFile[]): ImplementationReport[] {
  const [first] = inputs;
  const { count, targets } = shardOf(first);
  const byIndex = new Map<number, ReportFile>();
  for (const input of inputs) {
    const shard = shardOf(input);
    if (shard.count !== count) throw new MergeError(`${input.file} is a shard of ${shard.count}, ${first.file} of ${count}: shards of different runs`);
    if (JSON.stringify(shard.targets) !== JSON.stringify(targets)) throw new MergeError(`${input.file} and ${first.file} are shards of different runs (their target lists differ)`);
    const twice = byIndex.get(shard.index);
    if (twice) throw new MergeError(`shard ${shard.index}/${count} is given twice: ${twice.file} and ${input.file}`);
    byIndex.set(shard.index, input);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    const given = [...byIndex.values()].sort((a, b) => shardOf(a).index - shardOf(b).index).map(shardText);
    throw new MergeError(`shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing (given: ${given.join(', ')})`);
  }
  const implementations = joinWhole(inputs);
  const stray = implementations.find((i) => !targets.includes(i.name));
  if (stray) throw new MergeError(`"${stray.name}" is not a target of the run its shard records`);
  return implementations.sort((a, b) => targets.indexOf(a.name) - targets.indexOf(b.name));
}

/** Whole reports of different implementations, in the order given. */
function joinWhole(inputs: ReportFile[]): ImplementationReport[] {
  const from = new Map<string, string>();
  return inputs.flatMap(({ file, report }) => report.implementations.map((impl) => {
    const other = from.get(impl.name);
    if (other !== undefined) throw new MergeError(`"${impl.name}" is in both ${other} and ${file}: reports merge only when their implementations differ`);
    from.set(impl.name, file);
    return impl;
  }));
}

/**
 * Joins the reports of the shards of one run (`--shard`), or whole reports of different
 * implementations, into one report of the form an unsharded run writes. The run started when its first
 * shard did, and took as long as its longest shard: shards run side by side. Throws MergeError.
 */
export function mergeReports(inputs: ReportFile[]): RunReport {
  const [first] = inputs;
  if (first === undefined) throw new MergeError('no report to merge');
  const otherKit = inputs.find((r) => r.report.version !== first.report.version);
  if (otherKit) throw new MergeError(`${otherKit.file} was written by server-models ${otherKit.report.version}, ${first.file} by ${first.report.version}: merge reports of one kit version`);
  const sharded = inputs.filter((r) => r.report.shard !== undefined);
  if (sharded.length > 0 && sharded.length < inputs.length) {
    const whole = inputs.find((r) => r.report.shard === undefined) as ReportFile;
    throw new MergeError(`${sharded[0].file} is a shard of a run, ${whole.file} is not: merge the shards of one run, or whole reports`);
  }
  return {
    tool: 'server-models',
    version: first.report.version,
    startedAt: inputs.map((r) => r.report.startedAt).reduce((a, b) => (Date.parse(b) < Date.parse(a) ? b : a)),
    durationMs: Math.max(...inputs.map((r) => r.report.durationMs)),
    // Shards of one run share it; whole reports may not: the largest applied to some of the results.
    timeoutMultiplier: Math.max(...inputs.map((r) => r.report.timeoutMultiplier)),
    implementations: sharded.length > 0 ? joinShards(inputs) : joinWhole(inputs),
  };
}
