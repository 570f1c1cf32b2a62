import { Ending, ProtocolClient } from './client';
import { batchedCloseClassifier, CloseClassifier } from './close-kind';
import { GOODBYE } from './framing';
import { SessionOutcome, SessionTrace } from './session-trace';

/** What every client of a run does (the client command's flags). */
export interface SessionPlan {
  host: string;
  port: number;
  /** a server on a Unix socket: its path (then host and port are not used) */
  unix?: string;
  messages: number;
  text: string;
  goodbye: boolean;
  /** how long to wait for the connect, and without an ack to any client for an ack or the close */
  timeoutMs: number;
}

const CONNECT_FAILURES: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is a server listening there?)',
  ECONNRESET: 'connection reset while connecting',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  ENOENT: 'no such socket file (is a server listening there?)',
  EAGAIN: 'the socket\'s listen backlog is full',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connect timed out',
  EADDRNOTAVAIL: 'address not available',
  EMFILE: 'too many open files on this machine (lower --clients)',
};

/** Why a connect failed, in words; our own connect deadline is the one error without a code. */
function connectFailureReason(err: NodeJS.ErrnoException, timeoutMs: number): string {
  if (!err.code) return `no answer within ${timeoutMs} ms`;
  return CONNECT_FAILURES[err.code] ?? `${err.code}: ${err.message}`;
}

/**
 * When any client of the run last got an ack. A client waiting its turn behind others (a serial
 * server with a long delay) is not stuck while the others progress, so deadlines count from here.
 */
interface RunProgress {
  lastAckAt: number;
}

/** One client's session in progress. */
interface Session {
  readonly client: ProtocolClient;
  readonly trace: SessionTrace;
  readonly plan: SessionPlan;
  readonly startedAt: number;
  readonly progress: RunProgress;
}

const sinceStart = (s: Session): number => Date.now() - s.startedAt;

function endTrace(trace: SessionTrace, outcome: SessionOutcome, atMs: number, detail?: string): void {
  Object.assign(trace, { outcome, endedAt: atMs, detail });
}

/** How the server ended the connection, as a session's outcome. */
function serverEnd(ending: Ending): { outcome: SessionOutcome; detail?: string } {
  if (ending.kind !== 'open') return { outcome: ending.kind };
  // an end of stream on a socket the kernel still calls established: say so rather than guess
  return { outcome: 'error', detail: ending.via === 'end' ? 'end of stream on an open socket' : ending.error };
}

function endTraceByServer(s: Session, ending: Ending): void {
  const { outcome, detail } = serverEnd(ending);
  endTrace(s.trace, outcome, s.client.connectedAt - s.startedAt + ending.at, detail);
}

/** Copies the acks the client read since the last look into the trace, and counts them as the run's progress. */
function recordAcks(s: Session): void {
  const { trace, client } = s;
  const fresh = client.ackStream.acks - trace.acksAt.length;
  if (fresh <= 0) return;
  // true acks come first in the client's 3-byte replies, so their times are the first ones
  for (const at of client.ackTimes(trace.acksAt.length).slice(0, fresh)) trace.acksAt.push(at - s.startedAt);
  s.progress.lastAckAt = Date.now();
}

/**
 * Resolves true once `done()` holds (looked at on every change the client records), or with `done()`
 * once `timeoutMs` passed without an ack to any client of the run.
 */
function waitFor(s: Session, done: () => boolean, timeoutMs: number): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  const began = Date.now();
  return new Promise((resolve) => {
    const finish = (): void => {
      clearTimeout(timer);
      stopWatching();
      resolve(done());
    };
    const check = (): void => {
      const idle = Date.now() - Math.max(began, s.progress.lastAckAt);
      if (idle >= timeoutMs) finish();
      else timer = setTimeout(check, timeoutMs - idle);
    };
    let timer = setTimeout(check, timeoutMs);
    const stopWatching = s.client.onChange(() => {
      if (done()) finish();
    });
  });
}

/** Sends the messages in lock-step; false when the session ended before every ack arrived. */
async function exchangeMessages(s: Session): Promise<boolean> {
  const { client, trace, plan } = s;
  for (let n = 1; n <= plan.messages; n++) {
    // not awaited: the wait, and its idle clock, start with the write
    void client.send(plan.text);
    await waitFor(s, () => trace.acksAt.length >= n || client.ending !== undefined || !client.ackStream.valid, plan.timeoutMs);
    if (client.ackStream.unexpected !== undefined) {
      endTrace(trace, 'bad-reply', sinceStart(s), JSON.stringify(client.ackStream.unexpected));
      return false;
    }
    if (trace.acksAt.length >= n) continue;
    if (client.ending) endTraceByServer(s, client.ending);
    else endTrace(trace, 'timed-out', sinceStart(s), `no ack ${n} within ${plan.timeoutMs} ms`);
    return false;
  }
  return true;
}

/** Sends goodbye and records how (and whether) the server closed. */
async function sayGoodbye(s: Session): Promise<void> {
  void s.client.send(GOODBYE);
  await waitFor(s, () => s.client.ending !== undefined, s.plan.timeoutMs);
  if (s.client.ending) endTraceByServer(s, s.client.ending);
  else endTrace(s.trace, 'open', sinceStart(s));
}

/** Told of each connection as it opens (the client command then follows its acceptance). */
export type OnConnected = (trace: SessionTrace, client: ProtocolClient) => void;

/** Runs one client's session, recording into `trace` as it goes. */
async function runSession(trace: SessionTrace, plan: SessionPlan, startedAt: number, progress: RunProgress, classifyEnd: CloseClassifier, onConnected?: OnConnected): Promise<void> {
  let client: ProtocolClient;
  try {
    const endpoint = plan.unix !== undefined ? { path: plan.unix } : { host: plan.host, port: plan.port };
    client = await ProtocolClient.connectTo(endpoint, plan.timeoutMs, { classifyEnd, keepReceived: false });
  } catch (err) {
    return endTrace(trace, 'no-connect', Date.now() - startedAt, connectFailureReason(err as NodeJS.ErrnoException, plan.timeoutMs));
  }
  trace.connectedAt = client.connectedAt - startedAt;
  onConnected?.(trace, client);
  const session: Session = { client, trace, plan, startedAt, progress };
  const stopRecording = client.onChange(() => recordAcks(session));
  try {
    if (!(await exchangeMessages(session))) return;
    if (plan.goodbye) await sayGoodbye(session);
    else endTrace(trace, 'closed', sinceStart(session));
  } finally {
    stopRecording();
    client.close();
  }
}

/**
 * Runs one lock-step session per trace, all at once: connect, send each message and wait for its ack,
 * then goodbye if asked. Records into the traces as it goes (the client command's live view reads them
 * meanwhile); times are ms since `startedAt`. The server's ends are classified in batches.
 */
export async function runLockstepSessions(traces: SessionTrace[], plan: SessionPlan, startedAt: number, onConnected?: OnConnected): Promise<void> {
  const progress: RunProgress = { lastAckAt: startedAt };
  const classifyEnd = batchedCloseClassifier();
  await Promise.all(traces.map((trace) => runSession(trace, plan, startedAt, progress, classifyEnd, onConnected)));
}
