import { C10kResult } from './c10k';
import { LoadResult } from './load-generator';

/** One connection level of one implementation. */
export interface BenchLevel {
  connections: number;
  result?: LoadResult;
  /** why this level has no result (not run, or the server could not take it) */
  skipped?: string;
  /** resident memory of the server's tree after the level */
  rssBytes?: number;
}

export interface BenchImplementation {
  name: string;
  cmd: string;
  /** a yardstick, not a reference server (the minimal C epoll server) */
  baseline?: boolean;
  error?: string;
  levels: BenchLevel[];
  c10k?: C10kResult | { skipped: string };
}

/**
 * Our load generator against the minimal C closed-loop client, on the same server and load: rounds
 * alternate between the two, and the medians are compared (one run of either varies by ~10%).
 */
export interface GeneratorCheck {
  server: string;
  connections: number;
  /** msgs/s of each round, in the order run */
  rounds: { generator: number; cClient: number }[];
  /** medians over the rounds */
  generatorMsgsPerSec: number;
  cClientMsgsPerSec: number;
  ratio: number;
}

/** A ratio the project tracks, measured by the minimal C closed-loop client on both sides. */
export interface BenchRatio {
  label: string;
  numerator: string;
  denominator: string;
  connections: number;
  /** messages in flight per connection */
  pipeline: number;
  /** rounds per side: each ran both sides, one after the other */
  rounds: number;
  /** medians of each side's rounds */
  numeratorMsgsPerSec: number;
  denominatorMsgsPerSec: number;
  /** the median of the rounds' ratios */
  value: number;
  goal: number;
}

/** Everything one `bench` run measured: what its JSON and HTML are made from. */
export interface BenchReport {
  tool: 'server-models bench';
  version: string;
  startedAt: string;
  durationMs: number;
  machine: { cpus: number; cpuModel: string; node: string; kernel: string };
  settings: { connections: number[]; durationMs: number; warmupMs: number; pipeline: number; threads: number; c10k?: number };
  fdNote: string;
  implementations: BenchImplementation[];
  generatorCheck?: GeneratorCheck;
  ratios: BenchRatio[];
}
