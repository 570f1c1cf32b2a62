import { CaseResult } from '../cases/types';
import { Limit, ModelName } from '../harness/models';

/** One implementation (target) checked in a run, with every case result. */
export interface ImplementationReport {
  /** Display name, e.g. "ts/prefork" or the name given in a manifest. */
  name: string;
  model: ModelName;
  /** The command as given (placeholders not expanded), or host:port for a fixed address. */
  cmd: string;
  delayMs: number;
  limit: Limit;
  /** The target could not be checked at all (did not start, not built): why. No cases then. */
  error?: string;
  cases: CaseResult[];
  /** Wall time of this implementation's check, ms (its cases overlap when run with several jobs). */
  durationMs?: number;
  /** Cases run at the same time for it (1 for a fixed port). */
  jobs?: number;
  /** Case ids that were expected to fail (--expect-fail) for this implementation. */
  expectedFailures?: string[];
}

/** Which share of a run split across machines (`--shard I/N`) a report holds. */
export interface ShardInfo {
  /** this shard, counted from 1 */
  index: number;
  count: number;
  /** every target of the whole run, in the run's order: a merge restores that order and sees a shard missing */
  targets: string[];
}

/** Everything one `check` or `matrix` run produced: what the JSON, JUnit and HTML reports are made from. */
export interface RunReport {
  tool: 'server-models';
  version: string;
  /** ISO time the run started */
  startedAt: string;
  durationMs: number;
  timeoutMultiplier: number;
  implementations: ImplementationReport[];
  /** Set on the report of one shard of a run (`--shard`); a merged report has none. */
  shard?: ShardInfo;
}
