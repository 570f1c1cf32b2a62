import { paint } from '../reports/console';
import { SessionTrace } from '../harness/session-trace';
import { clientLabel } from './client-timeline';

/** What the run asked of every client, as far as judging the outcome needs it. */
export interface RunExpectation {
  messages: number;
  goodbye: boolean;
  timeoutMs: number;
}

/** How the server appears to have served the clients. */
export type ServiceKind = 'parallel' | 'one-at-a-time' | 'in-waves' | 'unknown';

export interface ServiceVerdict {
  kind: ServiceKind;
  /** one line for a person, marked as an estimate */
  text: string;
}

const MAX_LISTED = 6;

/** Lists ms values, eliding the middle of a long list: "100, 300, 500, …, 9900 ms". */
export function listMs(values: number[], max = MAX_LISTED): string {
  const rounded = values.map((v) => String(Math.round(v)));
  if (rounded.length <= max) return `${rounded.join(', ')} ms`;
  return `${rounded.slice(0, max - 1).join(', ')}, … (${rounded.length - max} more), ${rounded[rounded.length - 1]} ms`;
}

/**
 * The time one message takes the server: the smallest gap between consecutive acks of one client
 * (lock-step, so that is work delay plus a round trip); with one message per client, the quickest
 * first ack after connecting.
 */
export function messageWorkMs(traces: SessionTrace[]): number | undefined {
  const gaps = traces.flatMap((t) => t.acksAt.slice(1).map((ms, i) => ms - t.acksAt[i]));
  // A reduce, not Math.min(...): a long run has more gaps than a call can take arguments.
  const smallest = (values: number[]): number => values.reduce((a, b) => Math.min(a, b));
  if (gaps.length > 0) return Math.max(1, smallest(gaps));
  const firsts = traces.flatMap((t) => (t.acksAt.length > 0 ? [t.acksAt[0] - (t.connectedAt ?? 0)] : []));
  return firsts.length > 0 ? Math.max(1, smallest(firsts)) : undefined;
}

/** Groups sorted times into waves: a time closer than `toleranceMs` to the previous one joins its wave. */
export function groupWaves(sortedMs: number[], toleranceMs: number): number[][] {
  const waves: number[][] = [];
  for (const ms of sortedMs) {
    const wave = waves[waves.length - 1];
    if (wave && ms - wave[wave.length - 1] < toleranceMs) wave.push(ms);
    else waves.push([ms]);
  }
  return waves;
}

/** How long a client waited for its first ack after connecting: what a busy server makes it wait. */
function firstAckWait(trace: SessionTrace): number {
  return trace.acksAt[0] - (trace.connectedAt ?? 0);
}

/**
 * Estimates serial vs parallel service from how long each client waited for its first ack after
 * connecting (not from the run's start: a full listen backlog delays some connects by a second, which
 * says nothing about how the server serves): clients served at the same time wait alike, within less
 * than half a message's work of each other; clients served one after the other wait at least one more
 * message's work each.
 */
export function serviceVerdict(traces: SessionTrace[]): ServiceVerdict {
  const served = traces.filter((t) => t.acksAt.length > 0);
  const unserved = traces.length - served.length;
  const note = unserved > 0 ? `; ${unserved} of ${traces.length} clients got no ack` : '';
  const workMs = messageWorkMs(served);
  if (served.length < 2 || workMs === undefined) {
    const who = served.length === 0 ? 'no client got an ack' : 'only one client got an ack';
    return { kind: 'unknown', text: `cannot tell serial from parallel: ${who}${served.length === 0 ? '' : note}` };
  }
  const waits = served.map(firstAckWait).sort((a, b) => a - b);
  const waves = groupWaves(waits, workMs / 2);
  const work = `one message takes about ${Math.round(workMs)} ms`;
  if (waves.length === 1) {
    const [low, high] = [Math.round(waits[0]), Math.round(waits[waits.length - 1])];
    const span = low === high ? `${low} ms` : `${low}..${high} ms`;
    return { kind: 'parallel', text: `served in parallel (estimate): all ${served.length} clients got their first ack ${span} after connecting; ${work}${note}` };
  }
  if (waves.every((w) => w.length === 1)) {
    return { kind: 'one-at-a-time', text: `served one at a time (estimate): first acks ${listMs(waits)} after connecting; ${work}${note}` };
  }
  const widest = Math.max(...waves.map((w) => w.length));
  const starts = listMs(waves.map((w) => w[0]));
  return {
    kind: 'in-waves',
    text: `served up to ${widest} at a time (estimate): first acks in ${waves.length} waves, ${starts} after connecting; ${work}${note}`,
  };
}

/** True when the client got every ack and ended as asked: FIN after goodbye, or closed by us. */
export function sessionSucceeded(trace: SessionTrace, run: RunExpectation): boolean {
  return trace.acksAt.length === run.messages && trace.outcome === (run.goodbye ? 'fin' : 'closed');
}

/** How a session ended, in words: "FIN from server at 612 ms", "timed out: no ack 2 within 250 ms", … */
export function describeEnd(trace: SessionTrace, run: RunExpectation): string {
  const at = `at ${Math.round(trace.endedAt ?? 0)} ms`;
  const early = trace.acksAt.length < run.messages ? ` after ${trace.acksAt.length} of ${run.messages} acks` : '';
  switch (trace.outcome) {
    case 'fin':
      return `FIN from server ${at}${early}`;
    case 'rst':
      return `RST from server ${at}${early}`;
    case 'open':
      return `no close from server within ${run.timeoutMs} ms after goodbye; closed it ${at}`;
    case 'closed':
      return `closed by client ${at}`;
    case 'timed-out':
      return `timed out: ${trace.detail ?? 'no ack'}`;
    case 'no-connect':
      return `no connection: ${trace.detail ?? 'unknown error'}`;
    case 'bad-reply':
      return `unexpected reply ${trace.detail ?? ''} ${at}${early}`;
    case 'error':
      return `socket error ${trace.detail ?? ''} ${at}${early}`;
    case undefined:
      return 'still running';
  }
}

/** The per-client table: connect time, ack times (ms since start), how it ended. */
export function formatClientTable(traces: SessionTrace[], run: RunExpectation, color: boolean): string[] {
  const rows = traces.map((t, i) => ({
    label: clientLabel(i),
    connected: t.connectedAt === undefined ? '-' : `${Math.round(t.connectedAt)} ms`,
    acks: t.acksAt.length === 0 ? '-' : listMs(t.acksAt),
    end: paint(describeEnd(t, run), sessionSucceeded(t, run) ? '32' : '31', color),
  }));
  const header = { label: 'client', connected: 'connected', acks: 'acks at (ms since start)', end: 'end' };
  const width = (key: 'label' | 'connected' | 'acks'): number => Math.max(header[key].length, ...rows.map((r) => r[key].length));
  const [wl, wc, wa] = [width('label'), width('connected'), width('acks')];
  return [header, ...rows].map((r) => `${r.label.padEnd(wl)}  ${r.connected.padEnd(wc)}  ${r.acks.padEnd(wa)}  ${r.end}`);
}

/** A short name for what went wrong in a session that did not succeed, for counting in the overall line. */
function failureName(trace: SessionTrace, run: RunExpectation): string {
  const when = trace.acksAt.length < run.messages ? ' before the last ack' : ' after goodbye';
  switch (trace.outcome) {
    case 'fin':
      return `FIN${when}`;
    case 'rst':
      return `RST${when}`;
    case 'open':
      return 'left open after goodbye';
    case 'timed-out':
      return 'timed out';
    case 'no-connect':
      return 'no connection';
    case 'bad-reply':
      return 'bad reply';
    case 'error':
      return 'socket error';
    case 'closed':
    case undefined:
      return 'unfinished';
  }
}

/** The overall line: total time, how many clients got everything, and what went wrong for the rest. */
export function formatOverall(traces: SessionTrace[], run: RunExpectation, totalMs: number): string {
  const ok = traces.filter((t) => sessionSucceeded(t, run)).length;
  const goal = `all ${run.messages} acks${run.goodbye ? ' and a FIN after goodbye' : ''}`;
  const failures = new Map<string, number>();
  for (const t of traces.filter((t) => !sessionSucceeded(t, run))) {
    const name = failureName(t, run);
    failures.set(name, (failures.get(name) ?? 0) + 1);
  }
  const failed = [...failures].map(([name, n]) => `${n} ${name}`).join(', ');
  return `total ${Math.round(totalMs)} ms: ${ok} of ${traces.length} clients got ${goal}${failed ? ` (${failed})` : ''}`;
}
