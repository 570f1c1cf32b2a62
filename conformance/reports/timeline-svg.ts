import { servedFrom, SessionTrace } from '../harness/session-trace';

export interface TimelineOptions {
  /** Shown above the chart, e.g. the case id. */
  title?: string;
  /** The server's work delay: gridlines then fall on multiples of it, so acks line up with them. */
  delayMs?: number;
  /** Width of the whole picture in px (default 900). */
  width?: number;
  /** When the case ended (ms since it started): bars of sessions still open then run up to it. */
  endMs?: number;
  /** Makes the picture's element ids unique in a page holding several (default "timeline"). */
  idPrefix?: string;
}

/** Rows drawn at most: a burst of 100 sessions would make a picture nobody scrolls through. */
export const MAX_TIMELINE_ROWS = 70;

const DEFAULT_WIDTH = 900;
const LABEL_WIDTH = 130;
const RIGHT_MARGIN = 24;
const TITLE_HEIGHT = 38;
const AXIS_HEIGHT = 34;
const LEGEND_HEIGHT = 22;
/** The phases' legend, a second line where a session's acceptance is known. */
const PHASE_LEGEND_HEIGHT = 18;

const COLORS = {
  bar: '#c9d7ea',
  barOpen: '#e3eaf4',
  /** the outline of an accepted session waiting for the server */
  waitingEdge: '#7f9cc4',
  /** the hatching of a session in the kernel's accept queue */
  kernelQueue: '#d9a441',
  ack: '#1f4e8c',
  fin: '#2e7d32',
  rst: '#c62828',
  client: '#6d6d6d',
  grid: '#e4e4e4',
  text: '#222',
  muted: '#666',
};

/** Escapes text for XML and HTML content and attributes (`& < > " '`). */
export function escapeMarkup(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A session with every time checked: reports may come from JSON files written by other tools. */
interface Row {
  label: string;
  connectedAt: number;
  acksAt: number[];
  endedAt?: number;
  endedBy?: SessionTrace['endedBy'];
  acceptedAt?: number;
}

function finiteOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(0, value) : fallback;
}

function toRow(s: SessionTrace): Row {
  const connectedAt = finiteOr(s.connectedAt, 0);
  const acksAt = Array.isArray(s.acksAt) ? s.acksAt.filter((t) => typeof t === 'number' && Number.isFinite(t)).map((t) => Math.max(0, t)) : [];
  const endedAt = s.endedAt === undefined ? undefined : finiteOr(s.endedAt, connectedAt);
  const acceptedAt = typeof s.acceptedAt === 'number' && Number.isFinite(s.acceptedAt) ? Math.max(connectedAt, s.acceptedAt) : undefined;
  return { label: String(s.label ?? ''), connectedAt, acksAt, endedAt, endedBy: s.endedBy, acceptedAt };
}

/** The latest moment anything happened in these sessions. */
function lastEvent(rows: Row[]): number {
  let last = 0;
  for (const r of rows) {
    last = Math.max(last, r.connectedAt, r.endedAt ?? 0);
    // A loop, not a spread: a flood can bring more acks than a call takes arguments.
    for (const t of r.acksAt) last = Math.max(last, t);
  }
  return last;
}

/** 1, 2 or 5 times a power of ten, at least `rough`. */
function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(rough, 1e-9)));
  for (const m of [1, 2, 5, 10]) if (m * power >= rough) return m * power;
  return 10 * power;
}

/**
 * Gridline spacing: multiples of the work delay when it is known and the chart spans at least two
 * of them (a serial server's acks then sit on consecutive lines), otherwise round numbers.
 */
function gridStep(span: number, delayMs: number | undefined): number {
  const wanted = 6;
  if (delayMs !== undefined && delayMs > 0 && span / delayMs >= 2) return delayMs * Math.max(1, niceStep(span / delayMs / wanted));
  return niceStep(span / wanted);
}

function formatMs(ms: number): string {
  return Number.isInteger(ms) ? String(ms) : ms.toFixed(1);
}

/** Cuts a label to what fits in the label column; the full text stays in the row's tooltip. */
function fitLabel(label: string, fontSize: number): string {
  const fits = Math.floor((LABEL_WIDTH - 10) / (fontSize * 0.6));
  return label.length <= fits ? label : `${label.slice(0, Math.max(1, fits - 1))}…`;
}

function endingText(r: Row): string {
  if (r.endedAt === undefined) return 'still open when the case ended';
  const by = r.endedBy === 'server-fin' ? 'server closed (FIN)' : r.endedBy === 'server-rst' ? 'server reset (RST)' : 'client closed';
  return `${by} at ${formatMs(r.endedAt)} ms`;
}

function rowTooltip(r: Row): string {
  const acks = r.acksAt.length ? `acks at ${r.acksAt.map(formatMs).join(', ')} ms` : 'no ack';
  const accepted = r.acceptedAt === undefined ? '' : `; accepted at ${formatMs(r.acceptedAt)} ms`;
  return `${r.label}: connected at ${formatMs(r.connectedAt)} ms${accepted}; ${acks}; ${endingText(r)}`;
}

/** The mark at the end of a bar: how the connection ended. */
function endMarker(r: Row, x: number, y: number, h: number): string {
  if (r.endedAt === undefined) {
    // Still open: an arrow pointing past the chart's end.
    return `<path d="M${x - 6} ${y} L${x} ${y + h / 2} L${x - 6} ${y + h} Z" fill="${COLORS.muted}"/>`;
  }
  if (r.endedBy === 'server-rst') {
    const d = h / 2;
    const cy = y + h / 2;
    return `<path d="M${x - d} ${cy - d} L${x + d} ${cy + d} M${x - d} ${cy + d} L${x + d} ${cy - d}" stroke="${COLORS.rst}" stroke-width="2"/>`;
  }
  const color = r.endedBy === 'server-fin' ? COLORS.fin : COLORS.client;
  return `<rect x="${x - 1.5}" y="${y - 1}" width="3" height="${h + 2}" fill="${color}"/>`;
}

interface Geometry {
  x(ms: number): number;
  plotLeft: number;
  plotRight: number;
  top: number;
  rowHeight: number;
  fontSize: number;
  chartEnd: number;
  /** Where the bar of a session still open at the end stops. */
  openUntil: number;
  delayMs?: number;
  /** the id of the kernel queue's hatching */
  hatchId: string;
}

/**
 * The bar from connect to end. Where the session's acceptance is known, in three phases: hatched while it
 * sat in the kernel's accept queue, an outline while accepted and waiting for the server, solid once
 * served (from its first ack less the work delay, see servedFrom). Otherwise one solid bar, as before.
 */
function renderBar(r: Row, g: Geometry, start: number, end: number, barY: number, barH: number): string {
  const fill = r.endedAt === undefined ? COLORS.barOpen : COLORS.bar;
  const rect = (x0: number, x1: number, attrs: string): string =>
    x1 > x0 ? `<rect x="${x0}" y="${barY}" width="${Math.round((x1 - x0) * 10) / 10}" height="${barH}" ${attrs}/>` : '';
  if (r.acceptedAt === undefined) return `<rect x="${start}" y="${barY}" width="${Math.max(1, end - start)}" height="${barH}" fill="${fill}"/>`;
  const accepted = Math.min(end, g.x(r.acceptedAt));
  const servedAt = servedFrom({ label: r.label, acksAt: r.acksAt, acceptedAt: r.acceptedAt }, g.delayMs);
  const served = servedAt === undefined ? end : Math.max(accepted, Math.min(end, g.x(servedAt)));
  return [
    rect(start, accepted, `class="phase-kernel-queue" fill="url(#${g.hatchId})" stroke="${COLORS.kernelQueue}" stroke-width="0.5"`),
    // inset by half the stroke, so the outline stays within the bar
    served > accepted ? `<rect class="phase-accepted" x="${accepted + 0.5}" y="${barY + 0.5}" width="${Math.max(0.1, Math.round((served - accepted - 1) * 10) / 10)}" height="${barH - 1}" fill="#fff" stroke="${COLORS.waitingEdge}"/>` : '',
    rect(served, end, `class="phase-served" fill="${fill}"`),
  ].join('');
}

/** The hatching of the kernel's accept queue, defined once per picture. */
function hatchPattern(id: string): string {
  return `<defs><pattern id="${id}" width="5" height="5" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
    `<rect width="5" height="5" fill="#fbf1dc"/><line x1="0" y1="0" x2="0" y2="5" stroke="${COLORS.kernelQueue}" stroke-width="2"/></pattern></defs>`;
}

function renderRow(r: Row, index: number, g: Geometry): string {
  const y = g.top + index * g.rowHeight;
  const barY = y + g.rowHeight * 0.2;
  const barH = g.rowHeight * 0.6;
  const start = g.x(r.connectedAt);
  // Clocks of connect, acks and case end differ by a millisecond: an open bar covers its own acks.
  const end = g.x(r.endedAt ?? Math.max(g.openUntil, r.connectedAt, ...r.acksAt.slice(-1)));
  const radius = Math.min(3.5, g.rowHeight * 0.3);
  // Acks closer than half a pixel are one dot: a flood of acks must not make the picture huge.
  const ackXs = [...new Set(r.acksAt.map((t) => Math.round(g.x(t) * 2) / 2))];
  const dots = ackXs.map((cx) => `<circle cx="${cx}" cy="${y + g.rowHeight / 2}" r="${radius}" fill="${COLORS.ack}"/>`).join('');
  return [
    `<g><title>${escapeMarkup(rowTooltip(r))}</title>`,
    `<text x="${g.plotLeft - 6}" y="${y + g.rowHeight / 2}" dominant-baseline="middle" text-anchor="end" font-size="${g.fontSize}" fill="${COLORS.text}">${escapeMarkup(fitLabel(r.label, g.fontSize))}</text>`,
    renderBar(r, g, start, end, barY, barH),
    endMarker(r, end, barY, barH),
    dots,
    '</g>',
  ].join('');
}

function renderGrid(g: Geometry, step: number, bottom: number): string {
  const lines: string[] = [];
  // Counted by index, not by adding steps up: sums of fractional steps drift past the last line.
  for (let i = 0; i * step <= g.chartEnd * (1 + 1e-9); i++) {
    const t = i * step;
    const x = g.x(t);
    lines.push(`<line x1="${x}" y1="${g.top}" x2="${x}" y2="${bottom}" stroke="${COLORS.grid}"/>`);
    lines.push(`<text x="${x}" y="${bottom + 13}" text-anchor="middle" font-size="10" fill="${COLORS.muted}">${formatMs(t)}</text>`);
  }
  lines.push(`<line x1="${g.plotLeft}" y1="${bottom}" x2="${g.plotRight}" y2="${bottom}" stroke="${COLORS.muted}"/>`);
  lines.push(`<text x="${(g.plotLeft + g.plotRight) / 2}" y="${bottom + 27}" text-anchor="middle" font-size="10" fill="${COLORS.muted}">ms since the case started</text>`);
  return lines.join('');
}

/** Legend items in one line from `x`: a mark drawn around (0, 0), then its text. */
function legendLine(items: [string, string][], x: number, y: number): string {
  let offset = x;
  const parts: string[] = [];
  for (const [mark, text] of items) {
    parts.push(`<g transform="translate(${offset} ${y})">${mark}<text x="14" y="0" dominant-baseline="middle" font-size="10" fill="${COLORS.muted}">${escapeMarkup(text)}</text></g>`);
    offset += 28 + text.length * 6;
  }
  return parts.join('');
}

/** The three phases of a session whose acceptance is known (see renderBar). */
function renderPhaseLegend(x: number, y: number, hatchId: string): string {
  return `<g class="phase-legend">${legendLine([
    [`<rect x="0" y="-5" width="11" height="10" fill="url(#${hatchId})" stroke="${COLORS.kernelQueue}" stroke-width="0.5"/>`, "in the kernel's accept queue"],
    [`<rect x="0.5" y="-4.5" width="10" height="9" fill="#fff" stroke="${COLORS.waitingEdge}"/>`, 'accepted, waiting for the server'],
    [`<rect x="0" y="-5" width="11" height="10" fill="${COLORS.bar}"/>`, 'served (from the first ack less the work delay)'],
  ], x, y)}</g>`;
}

function renderLegend(x: number, y: number): string {
  const items: [string, string][] = [
    [`<circle cx="5" cy="0" r="3.5" fill="${COLORS.ack}"/>`, 'ack'],
    [`<rect x="3.5" y="-6" width="3" height="12" fill="${COLORS.fin}"/>`, 'server FIN'],
    [`<path d="M1 -4 L9 4 M1 4 L9 -4" stroke="${COLORS.rst}" stroke-width="2"/>`, 'server RST'],
    [`<rect x="3.5" y="-6" width="3" height="12" fill="${COLORS.client}"/>`, 'client closed'],
    [`<path d="M2 -5 L8 0 L2 5 Z" fill="${COLORS.muted}"/>`, 'still open'],
  ];
  return legendLine(items, x, y);
}

function svgOpen(width: number, height: number, label: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeMarkup(label)}" font-family="system-ui, sans-serif">`;
}

function renderEmpty(title: string | undefined, width: number): string {
  const label = title ? `${title}: no sessions` : 'no sessions';
  return `${svgOpen(width, 40, label)}<text x="8" y="24" font-size="12" fill="${COLORS.muted}">${escapeMarkup(label)}</text></svg>`;
}

/**
 * One row per client session: a bar from connect to close (with how it closed), a dot per ack, on a
 * shared ms axis. Serial service shows as a staircase of acks, parallel service as a column.
 */
export function renderTimelineSvg(sessions: SessionTrace[], options: TimelineOptions = {}): string {
  const width = Math.max(LABEL_WIDTH + RIGHT_MARGIN + 200, Math.round(finiteOr(options.width, DEFAULT_WIDTH)));
  if (sessions.length === 0) return renderEmpty(options.title, width);

  const all = sessions.map(toRow);
  const shown = all.slice(0, MAX_TIMELINE_ROWS);
  const hidden = all.length - shown.length;
  const anyOpen = all.some((r) => r.endedAt === undefined);
  const last = Math.max(lastEvent(all), finiteOr(options.endMs, 0), 1);
  const step = gridStep(last, options.delayMs);
  // Leave room after the last event when a session is still open, so its arrow points past it.
  const chartEnd = Math.ceil((anyOpen ? last * 1.03 : last) / step) * step || step;
  // An open session lasted until the case ended; without that moment, up to the chart's end.
  const openUntil = options.endMs === undefined ? chartEnd : Math.min(chartEnd, finiteOr(options.endMs, 0));
  const rowHeight = shown.length > 24 ? 10 : 18;
  const plotLeft = LABEL_WIDTH;
  const plotRight = width - RIGHT_MARGIN;
  const phased = all.some((r) => r.acceptedAt !== undefined);
  const hatchId = `${(options.idPrefix ?? 'timeline').replace(/[^A-Za-z0-9_-]/g, '-')}-kernel-queue`;
  const g: Geometry = {
    x: (ms) => Math.round((plotLeft + (Math.min(ms, chartEnd) / chartEnd) * (plotRight - plotLeft)) * 10) / 10,
    plotLeft,
    plotRight,
    top: TITLE_HEIGHT,
    rowHeight,
    fontSize: rowHeight > 12 ? 11 : 8,
    chartEnd,
    openUntil,
    delayMs: options.delayMs,
    hatchId,
  };
  const bottom = g.top + shown.length * rowHeight + 4;
  const hiddenNote = hidden > 0 ? 16 : 0;
  const phaseLegend = phased ? PHASE_LEGEND_HEIGHT : 0;
  const height = bottom + AXIS_HEIGHT + hiddenNote + LEGEND_HEIGHT + phaseLegend;

  const acks = all.reduce((n, r) => n + r.acksAt.length, 0);
  const summary = `${all.length} session${all.length === 1 ? '' : 's'}, ${acks} ack${acks === 1 ? '' : 's'}${options.delayMs !== undefined ? `, work delay ${formatMs(options.delayMs)} ms` : ''}`;
  const title = options.title ?? 'sessions';
  const parts = [
    svgOpen(width, height, `${title}: ${summary}`),
    phased ? hatchPattern(hatchId) : '',
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="16" font-size="13" font-weight="bold" fill="${COLORS.text}">${escapeMarkup(title)}</text>`,
    `<text x="8" y="31" font-size="10" fill="${COLORS.muted}">${escapeMarkup(summary)}</text>`,
    renderGrid(g, step, bottom),
    ...shown.map((r, i) => renderRow(r, i, g)),
  ];
  if (hidden > 0) {
    parts.push(`<text x="8" y="${bottom + AXIS_HEIGHT + 8}" font-size="11" fill="${COLORS.muted}">… ${hidden} more session${hidden === 1 ? '' : 's'} not shown (first ${shown.length} of ${all.length})</text>`);
  }
  parts.push(renderLegend(8, height - phaseLegend - LEGEND_HEIGHT / 2));
  if (phased) parts.push(renderPhaseLegend(8, height - PHASE_LEGEND_HEIGHT / 2, hatchId));
  parts.push('</svg>');
  return parts.join('');
}
