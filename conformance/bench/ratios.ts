import { makeDeadlines } from '../harness/deadlines';
import { launchTarget, LaunchedTarget } from '../harness/launcher';
import { Target } from '../harness/target';
import { BenchRatio } from './bench-report';
import { runCClient } from './c-baselines';

/** One message in flight per connection, and eight: a server that reads and writes once per message
 * keeps up at the first and falls behind at the second. */
export const RATIO_PIPELINES = [1, 8] as const;
export type RatioPipeline = (typeof RATIO_PIPELINES)[number];
export const RATIO_CONNECTIONS = 100;
/** Rounds per server and pipeline, taking turns; the median counts (see ratiosFrom). */
export const RATIO_ROUNDS = 3;

export interface RatioPair {
  label: string;
  numerator: string;
  denominator: string;
  goals: Record<RatioPipeline, number>;
}

/** The two ratios the project tracks. */
export const RATIO_PAIRS: RatioPair[] = [
  { label: 'C event-loop vs minimal C epoll server', numerator: 'c/event-loop', denominator: 'c/minimal-epoll (baseline)', goals: { 1: 0.95, 8: 0.9 } },
  { label: 'TypeScript event-loop vs C event-loop', numerator: 'ts/event-loop', denominator: 'c/event-loop', goals: { 1: 0.7, 8: 0.8 } },
];

export interface RatioSettings {
  warmupMs: number;
  durationMs: number;
  multiplier: number;
  rounds: number;
}

/** msgs/s of every round, per target name and pipeline. */
export type RatioRounds = Map<string, Map<RatioPipeline, number[]>>;

/** The middle value (the mean of the two middle ones for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A ratio to 2 decimals, rounded down, so that it reads as meeting its goal only when it does. */
export function ratioText(value: number): string {
  return `${(Math.floor(value * 100 + 1e-9) / 100).toFixed(2)}×`;
}

/**
 * The ratios of every pair whose two sides were measured, at each pipeline. A round runs the two sides
 * one after the other, so each round gives a ratio of two runs made under the same conditions, and
 * the value is the median of those: on two cores a run's rate can jump by a third from one round to
 * the next, and the two sides of a round mostly jump together.
 */
export function ratiosFrom(rounds: RatioRounds, pairs: RatioPair[] = RATIO_PAIRS): BenchRatio[] {
  const ratios: BenchRatio[] = [];
  for (const pair of pairs) {
    for (const pipeline of RATIO_PIPELINES) {
      const a = rounds.get(pair.numerator)?.get(pipeline) ?? [];
      const b = rounds.get(pair.denominator)?.get(pipeline) ?? [];
      if (a.length === 0 || b.length === 0) continue;
      const count = Math.min(a.length, b.length);
      const each = a.slice(0, count).map((v, i) => v / b[i]);
      if (each.some((r) => !Number.isFinite(r))) continue;
      ratios.push({
        label: pair.label,
        numerator: pair.numerator,
        denominator: pair.denominator,
        connections: RATIO_CONNECTIONS,
        pipeline,
        rounds: count,
        numeratorMsgsPerSec: median(a),
        denominatorMsgsPerSec: median(b),
        value: median(each),
        goal: pair.goals[pipeline],
      });
    }
  }
  return ratios;
}

/**
 * Measures the targets with the minimal C closed-loop client, one generator for all, at 100
 * connections and each pipeline: every target is started once (work delay 0), then the rounds take
 * turns between them so that a busy moment of the machine falls on all of them alike.
 */
export async function measureRatioRounds(targets: Target[], client: string, settings: RatioSettings, onStep: (step: string) => void): Promise<RatioRounds> {
  const rounds: RatioRounds = new Map(targets.map((t) => [t.name, new Map()]));
  const servers: LaunchedTarget[] = [];
  try {
    for (const target of targets) servers.push(await launchTarget({ ...target, delayMs: 0 }, makeDeadlines(0, settings.multiplier)));
    for (const pipeline of RATIO_PIPELINES) {
      for (let round = 1; round <= settings.rounds; round++) {
        for (const [i, server] of servers.entries()) {
          const name = targets[i].name;
          onStep(`ratios, pipeline ${pipeline}, round ${round}/${settings.rounds}: ${name} at ${RATIO_CONNECTIONS} connections …`);
          const r = await runCClient(client, server.host, server.port, RATIO_CONNECTIONS, pipeline, settings.warmupMs, settings.durationMs);
          const perPipeline = rounds.get(name) ?? new Map<RatioPipeline, number[]>();
          perPipeline.set(pipeline, [...(perPipeline.get(pipeline) ?? []), r.msgsPerSec]);
          rounds.set(name, perPipeline);
        }
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
  }
  return rounds;
}
