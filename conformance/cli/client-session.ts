import { connect as netConnect, Socket } from 'node:net';
import { frame } from '../harness/client';
import { classifyClose, classifyCloseRereading, CloseKind, MISSING_ROW_REREADS } from '../harness/close-kind';
import { hasProcfs, readTcpTable } from '../harness/procfs';
import { SessionEnd, SessionTrace } from './client-timeline';

/** What every client of a run does. */
export interface SessionPlan {
  host: string;
  port: number;
  messages: number;
  text: string;
  goodbye: boolean;
  /** how long to wait for the connect, for each ack, and for the close after goodbye */
  timeoutMs: number;
}

const CONNECT_FAILURES: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is a server listening there?)',
  ECONNRESET: 'connection reset while connecting',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connect timed out',
  EADDRNOTAVAIL: 'address not available',
  EMFILE: 'too many open files on this machine (lower --clients)',
};

/** Why a connect failed, in words; our own connect deadline is the one error without a code. */
export function connectFailureReason(err: NodeJS.ErrnoException, timeoutMs: number): string {
  if (!err.code) return `no answer within ${timeoutMs} ms`;
  return CONNECT_FAILURES[err.code] ?? `${err.code}: ${err.message}`;
}

/**
 * Splits what arrived into complete acks and the rest; `valid` is false once the rest can no longer
 * become an ack. Only the rest is kept between reads, so a long run costs no growing buffer.
 */
export function takeAcks(buffered: string): { acks: number; rest: string; valid: boolean } {
  let acks = 0;
  while (buffered.startsWith('ack', acks * 3)) acks++;
  const rest = buffered.slice(acks * 3);
  return { acks, rest, valid: 'ack'.startsWith(rest) };
}

type Classify = (localPort: number, remotePort: number) => Promise<CloseKind>;

/** How long ends are collected before the TCP table is read once for all of them. */
const CLASSIFY_WINDOW_MS = 50;

/**
 * FIN or RST, decided like the kit's ProtocolClient (our socket's state in /proc/self/net/tcp, which
 * stays in CLOSE_WAIT until we close), but with one read of the table for all the ends seen within
 * CLASSIFY_WINDOW_MS. A read costs milliseconds per thousand sockets on the machine and blocks the
 * event loop, so other clients' acks arriving meanwhile would be dated late; the ends of a parallel
 * run with --goodbye come together, right after the last acks. The end's time is taken at once anyway.
 */
export function batchedCloseClassifier(windowMs = CLASSIFY_WINDOW_MS): Classify {
  let pending: { localPort: number; remotePort: number; resolve: (kind: CloseKind) => void }[] = [];
  const flush = (): void => {
    const batch = pending;
    pending = [];
    const rows = readTcpTable('self');
    for (const p of batch) {
      const kind = classifyClose(p.localPort, p.remotePort, rows);
      // a row missing from one read may only have been skipped: look again before calling it an RST
      // (the batch's read was the first look, so as many reads in all as the ProtocolClient makes)
      p.resolve(kind === 'rst' ? classifyCloseRereading(p.localPort, p.remotePort, undefined, MISSING_ROW_REREADS - 1) : kind);
    }
  };
  return (localPort, remotePort) =>
    new Promise((resolve) => {
      // without /proc there is nothing to look at: take the end of stream for the FIN it usually is
      if (!hasProcfs()) return resolve('fin');
      if (pending.length === 0) setTimeout(flush, windowMs);
      pending.push({ localPort, remotePort, resolve });
    });
}

/** How the server ended the connection, as this client saw it. */
interface ServerEnd {
  end: SessionEnd;
  atMs: number;
  detail?: string;
}

/** One client's connection in progress. */
interface Session {
  readonly socket: Socket;
  readonly trace: SessionTrace;
  readonly plan: SessionPlan;
  readonly startedAt: number;
  /** bytes received after the last complete ack (a partial ack) */
  partial: string;
  /** what the server sent instead of an ack, quoted, once it did */
  badReply?: string;
  /** set once the server's FIN (end of stream), so a later socket error does not count as the end */
  eofAt?: number;
  serverEnd?: ServerEnd;
  /** re-checks what the session waits for; called on every event that may change it */
  wake?: () => void;
}

const sinceStart = (s: Session): number => Date.now() - s.startedAt;

function endTrace(trace: SessionTrace, end: SessionEnd, atMs: number, detail?: string): void {
  Object.assign(trace, { end, endedAt: atMs, detail });
}

/** Connects, rejecting on refusal, a lookup failure, or no handshake within `timeoutMs`. */
function openSocket(plan: SessionPlan): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // half-open allowed: after the server's FIN our socket must stay in CLOSE_WAIT until classified
    const socket = netConnect({ host: plan.host, port: plan.port, allowHalfOpen: true });
    socket.setNoDelay(true);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connect deadline'));
    }, plan.timeoutMs);
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/** Records acks as they arrive and how the server ends the connection, waking the session each time. */
function watchSocket(s: Session, classify: Classify): void {
  const { socket } = s;
  // ports read undefined once the socket is destroyed, so take them now
  const [localPort, remotePort] = [socket.localPort ?? 0, socket.remotePort ?? 0];
  const serverEnded = (end: ServerEnd): void => {
    s.serverEnd ??= end;
    s.wake?.();
  };
  socket.on('data', (chunk: Buffer) => {
    if (s.badReply !== undefined) return; // judged already; keep nothing more
    const atMs = sinceStart(s);
    const { acks, rest, valid } = takeAcks(s.partial + chunk.toString('latin1'));
    for (let i = 0; i < acks; i++) s.trace.ackAt.push(atMs);
    if (acks > 0) lastProgressAt = Date.now();
    s.partial = rest;
    if (!valid) s.badReply = JSON.stringify(rest.slice(0, 40));
    s.wake?.();
  });
  socket.on('end', () => {
    const atMs = sinceStart(s);
    s.eofAt = atMs;
    void classify(localPort, remotePort).then((kind) =>
      // an end of stream on a socket the kernel still calls established: say so rather than guess
      serverEnded(kind === 'open' ? { end: 'error', atMs, detail: 'end of stream on an open socket' } : { end: kind, atMs }),
    );
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (s.eofAt !== undefined) return; // the classification of that end decides
    const reset = err.code === 'ECONNRESET' || err.code === 'EPIPE';
    serverEnded({ end: reset ? 'rst' : 'error', atMs: sinceStart(s), detail: reset ? undefined : err.code ?? err.message });
  });
}

/**
 * When any client of the run last got an ack. A client waiting its turn behind others (a serial
 * server with a long delay) is not stuck while the others progress, so deadlines count from here.
 */
let lastProgressAt = Date.now();

/**
 * Resolves true once `done()` holds (re-checked on every socket event), or with `done()` once
 * `timeoutMs` passed without an ack to any client of the run.
 */
function waitFor(s: Session, done: () => boolean, timeoutMs: number): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  const began = Date.now();
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      s.wake = undefined;
      resolve(done());
    };
    const check = (): void => {
      const idle = Date.now() - Math.max(began, lastProgressAt);
      if (idle >= timeoutMs) finish();
      else timer = setTimeout(check, timeoutMs - idle);
    };
    let timer = setTimeout(check, timeoutMs);
    s.wake = () => {
      if (done()) finish();
    };
  });
}

/** Sends the messages in lock-step; false when the session ended before every ack arrived. */
async function exchangeMessages(s: Session): Promise<boolean> {
  const { trace, plan } = s;
  for (let n = 1; n <= plan.messages; n++) {
    if (!s.socket.destroyed) s.socket.write(frame(plan.text));
    await waitFor(s, () => trace.ackAt.length >= n || s.serverEnd !== undefined || s.badReply !== undefined, plan.timeoutMs);
    if (s.badReply !== undefined) {
      endTrace(trace, 'bad-reply', sinceStart(s), s.badReply);
      return false;
    }
    if (trace.ackAt.length >= n) continue;
    if (s.serverEnd) endTrace(trace, s.serverEnd.end, s.serverEnd.atMs, s.serverEnd.detail);
    else endTrace(trace, 'timed-out', sinceStart(s), `no ack ${n} within ${plan.timeoutMs} ms`);
    return false;
  }
  return true;
}

/** Sends goodbye and records how (and whether) the server closed. */
async function sayGoodbye(s: Session): Promise<void> {
  if (!s.socket.destroyed) s.socket.write(frame('goodbye'));
  await waitFor(s, () => s.serverEnd !== undefined, s.plan.timeoutMs);
  if (s.serverEnd) endTrace(s.trace, s.serverEnd.end, s.serverEnd.atMs, s.serverEnd.detail);
  else endTrace(s.trace, 'open', sinceStart(s));
}

const sharedClassifier = batchedCloseClassifier();

/** Runs one client's session, recording into `trace` as it goes (the live view reads it meanwhile). */
export async function runSession(trace: SessionTrace, plan: SessionPlan, startedAt: number, classify: Classify = sharedClassifier): Promise<void> {
  let socket: Socket;
  try {
    socket = await openSocket(plan);
  } catch (err) {
    return endTrace(trace, 'no-connect', Date.now() - startedAt, connectFailureReason(err as NodeJS.ErrnoException, plan.timeoutMs));
  }
  trace.connectedAt = Date.now() - startedAt;
  const session: Session = { socket, trace, plan, startedAt, partial: '' };
  watchSocket(session, classify);
  try {
    if (!(await exchangeMessages(session))) return;
    if (plan.goodbye) await sayGoodbye(session);
    else endTrace(trace, 'closed', sinceStart(session));
  } finally {
    socket.destroy();
  }
}
