import { CaseResult } from '../cases/types';
import { ImplementationReport } from './run-report';

/** Where one implementation's check spent its time (`check --timings`). */
export interface TimingSummary {
  name: string;
  /** wall time of the whole check, ms */
  wallMs: number;
  jobs: number;
  /** servers started for cases (one per case, one per group of cases sharing an exercise) */
  launches: number;
  /** ms inside cases, summed over cases (they overlap when jobs > 1) */
  insideMs: number;
  launchMs: number;
  stopMs: number;
  lockWaitMs: number;
  /** the slowest cases, slowest first, with launch and stop included */
  slowest: { id: string; ms: number; shared?: string[] }[];
}

const costOf = (r: CaseResult): number => (r.timing ? r.timing.launchMs + r.timing.runMs + r.timing.stopMs : r.durationMs);

/** Adds up the timings of an implementation's cases. */
export function summarizeTimings(impl: ImplementationReport, slowest = 5): TimingSummary {
  const timed = impl.cases.filter((r) => r.timing !== undefined);
  const sum = (pick: (r: CaseResult) => number): number => timed.reduce((s, r) => s + pick(r), 0);
  return {
    name: impl.name,
    wallMs: impl.durationMs ?? 0,
    jobs: impl.jobs ?? 1,
    launches: timed.filter((r) => (r.timing?.launchMs ?? 0) > 0).length,
    insideMs: sum((r) => r.timing?.runMs ?? 0),
    launchMs: sum((r) => r.timing?.launchMs ?? 0),
    stopMs: sum((r) => r.timing?.stopMs ?? 0),
    lockWaitMs: sum((r) => r.timing?.lockWaitMs ?? 0),
    slowest: [...timed].sort((a, b) => costOf(b) - costOf(a)).slice(0, slowest).map((r) => ({ id: r.id, ms: costOf(r), shared: r.timing?.shared })),
  };
}

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** The summary as lines for a person. */
export function formatTimings(t: TimingSummary): string[] {
  const per = t.launches > 0 ? ` (${t.launches} server${t.launches === 1 ? '' : 's'}, ${Math.round((t.launchMs + t.stopMs) / t.launches)} ms each)` : '';
  return [
    `timings ${t.name}: ${s(t.wallMs)} wall with ${t.jobs} job${t.jobs === 1 ? '' : 's'}; ${s(t.insideMs)} inside cases; ` +
      `launch ${s(t.launchMs)} + stop ${s(t.stopMs)}${per}; ${s(t.lockWaitMs)} waiting for the machine lock`,
    `  slowest: ${t.slowest.map((c) => `${c.id}${c.shared ? ` (+${c.shared.length} sharing its server)` : ''} ${s(c.ms)}`).join(', ')}`,
  ];
}
