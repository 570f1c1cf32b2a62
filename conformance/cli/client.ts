import { formatClientTable, formatOverall, messageWorkMs, serviceVerdict, sessionSucceeded } from './client-summary';
import { clientLabel, renderTimeline, timelineLegend } from './client-timeline';
import { AcceptQueueSampler, acceptQueueSummary, isLoopback, sampleAcceptQueue } from '../harness/accept-queue';
import { OnConnected, runLockstepSessions, SessionPlan } from '../harness/lockstep-session';
import { SessionTrace } from '../harness/session-trace';
import { useColor } from '../reports/console';
import { HELP_FLAG, intFlag, parseFlags, stringFlags, UsageError } from '../flags';

export const MAX_CLIENTS = 1000;
export const MAX_MESSAGES = 10_000;
/** The protocol's default --max-message-bytes: a longer message would only get the connection closed. */
export const MAX_TEXT_BYTES = 64 * 1024;

export const CLIENT_HELP = `Usage: server-models client --port <port> [options]
       server-models client --unix <path> [options]

Opens N connections at once to a running server, sends M messages on each in lock-step (send one,
wait for its ack, send the next) and draws a live timeline, one row per client, so you see whether
the server serves its clients one at a time or in parallel. Ends with a summary: when each client
connected, when each ack arrived, how each connection ended, and an estimated verdict.

  --port <port>        the server's port (this or --unix is required)
  --host <host>        the server's address (default 127.0.0.1)
  --unix <path>        the server's Unix-domain socket, instead of --host and --port
  --clients <n>        connections opened at once, 1..${MAX_CLIENTS} (default 5)
  --messages <m>       messages per connection, 1..${MAX_MESSAGES} (default 5)
  --text <text>        the message, printable ASCII (default "hello")
  --goodbye            end each session with "goodbye" and expect the server to close it (FIN)
  --timeout-ms <ms>    a client gives up waiting (for an ack, for the close) once no client of the
                       run has got an ack for this long (default 30000)
  -h, --help           this help

Example, in two terminals:
  node dist/servers/ts/single-process.js --port 4000 --delay-ms 500
  server-models client --port 4000 --clients 3 --messages 3 --goodbye

Exit status: 0 every client got all its acks (and a FIN after goodbye), 1 one did not,
2 usage error or no connection could be opened.`;

const DEFAULT_CLIENTS = 5;
const DEFAULT_MESSAGES = 5;
const DEFAULT_TIMEOUT_MS = 30_000;
/** Redraws per second of the live view. */
const FRAME_MS = 100;

/** Where the command writes; the real streams by default, a fake terminal in tests. */
export interface ClientIo {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
}

/** A run: what every client does, and how many clients do it. */
export interface ClientRun extends SessionPlan {
  clients: number;
}

function boundedInt(value: string | undefined, name: string, min: number, max: number, fallback: number): number {
  const n = intFlag(value, name, min) ?? fallback;
  if (n > max) throw new UsageError(`--${name} must be at most ${max}, got ${n}`);
  return n;
}

/** The message text must frame as exactly one protocol message, and not be the goodbye word. */
function checkedText(text: string): string {
  // printable ASCII only: ETX would split it into several messages, other bytes are not the protocol's
  if (!/^[\x20-\x7e]*$/.test(text)) throw new UsageError('--text must be printable ASCII (no control characters, no ETX)');
  if (text.length > MAX_TEXT_BYTES) throw new UsageError(`--text must be at most ${MAX_TEXT_BYTES} bytes, got ${text.length}`);
  if (text === 'goodbye') throw new UsageError('--text cannot be "goodbye" (the server would close); use --goodbye');
  return text;
}

/** Reads the flags into a run, or undefined for --help. Throws UsageError on a bad flag. */
export function parseClientArgs(args: string[]): ClientRun | undefined {
  const { values } = parseFlags(args, {
    ...stringFlags('host', 'port', 'unix', 'clients', 'messages', 'text', 'timeout-ms'),
    goodbye: { type: 'boolean' },
    ...HELP_FLAG,
  });
  if (values.help) return undefined;
  if (values.unix !== undefined && (values.port !== undefined || values.host !== undefined)) throw new UsageError('--unix cannot go with --port or --host: give one address');
  if (values.unix === '') throw new UsageError('--unix must not be empty');
  if (values.port === undefined && values.unix === undefined) throw new UsageError('--port is required (the port your server listens on), or --unix (its socket path)');
  if (values.host === '') throw new UsageError('--host must not be empty');
  return {
    host: values.host ?? '127.0.0.1',
    port: boundedInt(values.port, 'port', 1, 65535, 0),
    ...(values.unix !== undefined ? { unix: values.unix } : {}),
    clients: boundedInt(values.clients, 'clients', 1, MAX_CLIENTS, DEFAULT_CLIENTS),
    messages: boundedInt(values.messages, 'messages', 1, MAX_MESSAGES, DEFAULT_MESSAGES),
    text: checkedText(values.text ?? 'hello'),
    goodbye: values.goodbye === true,
    // a day at most: setTimeout cannot wait longer than about 24.8 days anyway
    timeoutMs: boundedInt(values['timeout-ms'], 'timeout-ms', 1, 86_400_000, DEFAULT_TIMEOUT_MS),
  };
}

function describeRun(run: ClientRun): string {
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const then = run.goodbye ? ', then goodbye' : '';
  return `server-models client: ${plural(run.clients, 'client')} × ${plural(run.messages, 'message')} ${JSON.stringify(run.text)} to ${whereTo(run)}${then}`;
}

/** The server's address as the run names it: host:port, or the socket's path. */
function whereTo(run: ClientRun): string {
  return run.unix ?? `${run.host}:${run.port}`;
}

const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const CLEAR_LINE = '\x1b[2K';
const CLEAR_BELOW = '\x1b[J';
const cursorUp = (lines: number): string => (lines > 0 ? `\x1b[${lines}A\r` : '\r');

/** Follows when the server accepts each connection (see watchAcceptance). */
interface AcceptanceWatch {
  onConnected: OnConnected;
  /** Copies the acceptances seen so far into the traces. */
  update(): void;
  sampler: AcceptQueueSampler;
}

/**
 * Where it can be seen: a server on this machine (loopback) shares our TCP tables. Elsewhere, or
 * without /proc, undefined, and the command says nothing of it.
 */
function watchAcceptance(run: ClientRun, startedAt: number): AcceptanceWatch | undefined {
  const sampler = run.unix === undefined && isLoopback(run.host) ? sampleAcceptQueue(run.port) : undefined;
  if (!sampler) return undefined;
  const pending: { trace: SessionTrace; port: number; connectedAt: number }[] = [];
  return {
    sampler,
    onConnected: (trace, client) => void pending.push({ trace, port: client.localPort, connectedAt: client.connectedAt }),
    update(): void {
      for (const p of pending) {
        const at = p.trace.acceptedAt === undefined ? sampler.acceptedAt(p.port, p.connectedAt) : undefined;
        if (at !== undefined) p.trace.acceptedAt = at - startedAt;
      }
    },
  };
}

/**
 * One message's work, where the sessions' phases are drawn: the quickest lock-step turnaround among each
 * client's first acks (a few per client keep a frame cheap however many acks a run brings).
 */
function workEstimate(traces: SessionTrace[]): number | undefined {
  return messageWorkMs(traces.map((t) => ({ ...t, acksAt: t.acksAt.slice(0, 3) })));
}

/** Redraws the timeline in place, every FRAME_MS, until stopped; stop() erases it again. */
function startLiveView(out: NodeJS.WriteStream, traces: SessionTrace[], startedAt: number, watch?: AcceptanceWatch): { stop(): void } {
  const color = useColor(out);
  let linesOnScreen = 0;
  const draw = (): void => {
    const nowMs = Date.now() - startedAt;
    const width = out.columns || 80;
    // leave room for the legend and the shell prompt: moving the cursor above the screen top is impossible
    const maxRows = Math.max(2, (out.rows || 24) - 6);
    watch?.update();
    const workMs = watch ? workEstimate(traces) : undefined;
    const lines = [...renderTimeline(traces, { nowMs, width, color, maxRows, workMs }), ...timelineLegend(traces, nowMs, width)];
    out.write(`${cursorUp(linesOnScreen)}${lines.map((l) => `${CLEAR_LINE}${l}\n`).join('')}${CLEAR_BELOW}`);
    linesOnScreen = lines.length;
  };
  // an interrupted run (Ctrl-C) must not leave the terminal without a cursor
  const restoreCursor = (): void => void out.write(SHOW_CURSOR);
  process.once('exit', restoreCursor);
  out.write(HIDE_CURSOR);
  draw();
  const timer = setInterval(draw, FRAME_MS);
  return {
    stop(): void {
      clearInterval(timer);
      process.off('exit', restoreCursor);
      out.write(`${cursorUp(linesOnScreen)}${CLEAR_BELOW}${SHOW_CURSOR}`);
    },
  };
}

/** The final picture: full timeline, legend, per-client table, overall line, where clients waited, and verdict. */
function finalReport(traces: SessionTrace[], run: ClientRun, totalMs: number, out: NodeJS.WriteStream, watch?: AcceptanceWatch): string {
  const color = useColor(out);
  const width = out.columns || 80;
  const workMs = watch ? workEstimate(traces) : undefined;
  const waited = watch ? acceptQueueSummary(traces, watch.sampler.listenQueue) : undefined;
  return [
    ...renderTimeline(traces, { nowMs: totalMs, width, color, workMs }),
    ...timelineLegend(traces, totalMs, width),
    '',
    ...formatClientTable(traces, run, color),
    '',
    formatOverall(traces, run, totalMs),
    ...(waited === undefined ? [] : [`accept queue: ${waited}`]),
    serviceVerdict(traces).text,
  ].join('\n');
}

/** One line naming every distinct reason the connects failed. */
function connectFailureLine(traces: SessionTrace[], run: ClientRun): string {
  const reasons = [...new Set(traces.map((t) => t.detail ?? 'unknown error'))].join('; ');
  return `server-models: cannot connect to ${whereTo(run)}: ${reasons}`;
}

/** `server-models client`: runs the clients against a server, shows the timeline; returns the exit code. */
export async function clientCommand(args: string[], io: ClientIo = { out: process.stdout, err: process.stderr }): Promise<number> {
  const run = parseClientArgs(args);
  if (!run) {
    io.out.write(`${CLIENT_HELP}\n`);
    return 0;
  }
  io.out.write(`${describeRun(run)}\n`);
  const traces: SessionTrace[] = Array.from({ length: run.clients }, (_, i) => ({ label: clientLabel(i), acksAt: [] }));
  const startedAt = Date.now();
  const watch = watchAcceptance(run, startedAt);
  // animation only for a person at a terminal; a pipe or a log gets the final picture once
  const live = io.out.isTTY ? startLiveView(io.out, traces, startedAt, watch) : undefined;
  try {
    await runLockstepSessions(traces, run, startedAt, watch?.onConnected);
  } finally {
    live?.stop();
    watch?.sampler.stop();
    watch?.update();
  }
  // until the last connection ended, not until we finished our bookkeeping (close classification)
  const totalMs = Math.max(...traces.map((t) => t.endedAt ?? Date.now() - startedAt));
  if (traces.every((t) => t.outcome === 'no-connect')) {
    io.err.write(`${connectFailureLine(traces, run)}\n`);
    return 2;
  }
  io.out.write(`${finalReport(traces, run, totalMs, io.out, watch)}\n`);
  return traces.every((t) => sessionSucceeded(t, run)) ? 0 : 1;
}
