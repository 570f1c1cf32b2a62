import { readFileSync } from 'node:fs';
import { ImplementationReport, RunReport, ShardInfo } from '../reports/run-report';
import { UsageError } from '../flags';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The shard a report records, if its field has the right shape. */
function shardOf(v: unknown): ShardInfo | undefined {
  if (!isObject(v) || !Number.isInteger(v.index) || !Number.isInteger(v.count) || !Array.isArray(v.targets)) return undefined;
  if (!v.targets.every((t) => typeof t === 'string')) return undefined;
  return { index: v.index as number, count: v.count as number, targets: v.targets as string[] };
}

/**
 * A JSON report written by `check --json`, `matrix --json` or `merge-reports --json`, read back as the
 * run report it was written from (its flat `cases` and `strict` are views of it, left out). A file that
 * cannot be read, or is not such a report, is a usage error naming it.
 */
export function readReportFile(file: string): RunReport {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const notReport = new UsageError(`${file} is not a server-models JSON report (one written by check --json, matrix --json or merge-reports --json)`);
  if (!isObject(json) || json.tool !== 'server-models' || typeof json.version !== 'string' || typeof json.startedAt !== 'string') throw notReport;
  if (typeof json.durationMs !== 'number' || typeof json.timeoutMultiplier !== 'number' || !Array.isArray(json.implementations)) throw notReport;
  const implementations = json.implementations as unknown[];
  if (!implementations.every((i) => isObject(i) && typeof i.name === 'string' && Array.isArray(i.cases))) throw notReport;
  const shard = json.shard === undefined ? undefined : shardOf(json.shard);
  if (json.shard !== undefined && shard === undefined) throw new UsageError(`${file}: its "shard" field is not {index, count, targets}`);
  return {
    tool: 'server-models',
    version: json.version,
    startedAt: json.startedAt,
    durationMs: json.durationMs,
    timeoutMultiplier: json.timeoutMultiplier,
    implementations: implementations as ImplementationReport[],
    ...(shard ? { shard } : {}),
  };
}
