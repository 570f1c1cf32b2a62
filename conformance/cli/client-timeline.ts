import { paint } from '../reports/console';
import { servedFrom, SessionOutcome, SessionTrace } from '../harness/session-trace';

/** What to draw: the moment the picture shows, the terminal width, colour, and a row cap (live view). */
export interface TimelineView {
  nowMs: number;
  width: number;
  color: boolean;
  maxRows?: number;
  /** one message's work (the delay D, as estimated from the run): where a session's service began */
  workMs?: number;
}

const NOT_CONNECTED = '·';
const WAITING = '─';
/** connected, not yet accepted: in the kernel's accept queue (drawn only where acceptance is known) */
const KERNEL_QUEUE = '░';
/** from the first ack less one message's work on (see servedFrom) */
const SERVED = '━';
const SEVERAL_ACKS = '█';

/** One character marks where a session ended; the letter says how. */
export const END_MARKS: Record<SessionOutcome, string> = {
  fin: '|',
  closed: '|',
  rst: 'R',
  open: 'O',
  'timed-out': 'T',
  'no-connect': 'X',
  'bad-reply': '!',
  error: 'E',
};

const END_NAMES: Record<SessionOutcome, string> = {
  fin: 'closed',
  closed: 'closed',
  rst: 'reset',
  open: 'left open',
  'timed-out': 'timed out',
  'no-connect': 'no connection',
  'bad-reply': 'bad reply',
  error: 'socket error',
};

const GRACEFUL_ENDS: ReadonlySet<SessionOutcome> = new Set<SessionOutcome>(['fin', 'closed']);

/** Round steps, per power of ten: a live view changes scale now and then, not on every frame. */
const ROUND_STEPS = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8];

/** The smallest round step (ms per column) at which `spanMs` fits strictly inside `columns` columns. */
export function timeStep(spanMs: number, columns: number): number {
  // +1: the column holding the instant `spanMs` itself must exist too
  const raw = (Math.max(spanMs, 0) + 1) / Math.max(columns, 1);
  for (let scale = 1; ; scale *= 10) {
    for (const m of ROUND_STEPS) if (Number.isInteger(m * scale) && m * scale >= raw) return m * scale;
  }
}

/** The glyph for the acks that fall in one column: the ack number when it is a single ack 1..9. */
function ackGlyph(ackNumbers: number[]): string {
  return ackNumbers.length === 1 && ackNumbers[0] <= 9 ? String(ackNumbers[0]) : SEVERAL_ACKS;
}

/**
 * One client's row of cells, from time 0 up to `nowMs`, `stepMs` per cell, at most `columns` cells.
 * Where the trace says when the server accepted it, the connected stretch shows where it waited: in the
 * kernel's accept queue, accepted and waiting, then served (from its first ack less `workMs`).
 */
export function renderRow(trace: SessionTrace, stepMs: number, columns: number, nowMs: number, color: boolean, workMs?: number): string {
  const column = (ms: number): number => Math.floor(ms / stepMs);
  const acksByColumn = new Map<number, number[]>();
  trace.acksAt.forEach((ms, i) => acksByColumn.set(column(ms), [...(acksByColumn.get(column(ms)) ?? []), i + 1]));
  let endColumn = trace.endedAt === undefined ? undefined : column(trace.endedAt);
  // A FIN right after the last ack shares its column; show the end one step later rather than hide the ack.
  if (endColumn !== undefined && acksByColumn.has(endColumn)) endColumn += 1;
  const drawn = Math.min(columns, Math.max(column(nowMs) + 1, (endColumn ?? -1) + 1));
  const connectColumn = trace.connectedAt === undefined ? undefined : column(trace.connectedAt);
  const acceptColumn = trace.acceptedAt === undefined ? undefined : column(trace.acceptedAt);
  const served = servedFrom(trace, workMs);
  const servedColumn = served === undefined ? undefined : column(served);
  const connected = (c: number): string => {
    if (acceptColumn !== undefined && c < acceptColumn) return paint(KERNEL_QUEUE, '33', color);
    if (servedColumn !== undefined && c >= servedColumn) return SERVED;
    return WAITING;
  };
  const cells: string[] = [];
  for (let c = 0; c < drawn; c++) {
    const acks = acksByColumn.get(c);
    if (acks) cells.push(paint(ackGlyph(acks), '32', color));
    else if (c === endColumn && trace.outcome) cells.push(paint(END_MARKS[trace.outcome], GRACEFUL_ENDS.has(trace.outcome) ? '36' : '31', color));
    else if (endColumn !== undefined && c > endColumn) cells.push(' ');
    else if (connectColumn !== undefined && c >= connectColumn) cells.push(connected(c));
    else cells.push(paint(NOT_CONNECTED, '90', color));
  }
  return cells.join('');
}

/** The label of client `index` (0-based), as rows and the summary show it. */
export function clientLabel(index: number): string {
  return `c${index + 1}`;
}

/** The time axis under the rows: 0 at the left, `nowMs` under the last drawn column. */
function axisLine(indent: number, drawnColumns: number, nowMs: number): string {
  const left = '0 ms';
  const right = `${Math.round(nowMs)} ms`;
  const gap = drawnColumns - left.length - right.length;
  return `${' '.repeat(indent)}${left}${gap > 0 ? ' '.repeat(gap) : ' '}${right}`;
}

/** How the picture is laid out: label width, cells per row, and ms per cell. */
export interface TimelineScale {
  labelWidth: number;
  columns: number;
  stepMs: number;
}

/** Scales `nowMs` of `clients` rows to a terminal `width` columns wide. */
export function timelineScale(clients: number, width: number, nowMs: number): TimelineScale {
  const labelWidth = clientLabel(clients - 1).length + 1;
  // one column spare: writing into the last terminal column makes some terminals wrap
  const columns = Math.max(10, width - labelWidth - 1);
  // one more spare: an end mark may be drawn a step after its instant (see renderRow)
  return { labelWidth, columns, stepMs: timeStep(nowMs, columns - 1) };
}

/**
 * The timeline: one row per client (time flowing left to right, scaled so `nowMs` fits the width),
 * then the time axis. With `maxRows`, rows beyond the cap are counted on one line instead.
 */
export function renderTimeline(traces: SessionTrace[], view: TimelineView): string[] {
  const { labelWidth, columns, stepMs } = timelineScale(traces.length, view.width, view.nowMs);
  const shown = view.maxRows !== undefined && traces.length > view.maxRows ? Math.max(1, view.maxRows - 1) : traces.length;
  const lines = traces
    .slice(0, shown)
    // trailing blanks (a closed connection) carry nothing and clutter logs
    .map((t, i) => `${clientLabel(i).padEnd(labelWidth)}${renderRow(t, stepMs, columns, view.nowMs, view.color, view.workMs)}`.trimEnd());
  if (shown < traces.length) lines.push(`… and ${traces.length - shown} more clients (all of them in the summary)`);
  lines.push(axisLine(labelWidth, Math.floor(view.nowMs / stepMs) + 1, view.nowMs));
  return lines;
}

/** The legend, wrapped to `width`: the scale, the glyphs, and only the end marks that occur. */
export function timelineLegend(traces: SessionTrace[], nowMs: number, width: number): string[] {
  const { stepMs } = timelineScale(traces.length, width, nowMs);
  const outcomes = new Set(traces.flatMap((t) => (t.outcome ? [t.outcome] : [])));
  const marks = new Map<string, string>();
  for (const outcome of outcomes) marks.set(END_MARKS[outcome], END_NAMES[outcome]);
  const items = [
    `1 column = ${stepMs} ms`,
    `${NOT_CONNECTED} not connected`,
    // where the accept queue was sampled, the three places a connected client waits or is served
    ...(traces.some((t) => t.acceptedAt !== undefined)
      ? [`${KERNEL_QUEUE} in the kernel's accept queue`, `${WAITING} accepted, waiting for the server`, `${SERVED} served (from ack 1 less one message's work)`]
      : [`${WAITING} connected, waiting`]),
    `1-9 ack number`,
    `${SEVERAL_ACKS} several acks or ack 10+`,
    ...[...marks].map(([mark, name]) => `${mark} ${name}`),
  ];
  return wrapItems(items, width - 1);
}

/** Joins items with two spaces, starting a new line where the next item would pass `width`. */
export function wrapItems(items: string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line !== '' && line.length + 2 + item.length > width) {
      lines.push(line);
      line = '';
    }
    line = line === '' ? item : `${line}  ${item}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}
