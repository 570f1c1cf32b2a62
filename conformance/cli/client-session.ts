import { CloseKind } from '../harness/close-kind';
import { Arrival, countAcks, Ending, ProtocolClient } from '../harness/client';
import { SessionEnd, SessionTrace } from './client-timeline';

/** What every client of a run does. */
export interface SessionPlan {
  host: string;
  port: number;
  messages: number;
  text: string;
  goodbye: boolean;
  /** how long to wait for each ack, for the connect, and for the close after goodbye */
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

/** Why a connect failed, in words; ProtocolClient's own deadline is the one error without a code. */
export function connectFailureReason(err: NodeJS.ErrnoException, timeoutMs: number): string {
  if (!err.code) return `no answer within ${timeoutMs} ms`;
  return CONNECT_FAILURES[err.code] ?? `${err.code}: ${err.message}`;
}

/** Arrival times of ack 1, 2, … (ms since run start), from the chunks as they arrived; acks may split. */
export function ackArrivalTimes(arrivals: Arrival[], connectedAtMs: number): number[] {
  const times: number[] = [];
  let bytes = 0;
  for (const chunk of arrivals) {
    bytes += chunk.bytes;
    while ((times.length + 1) * 3 <= bytes) times.push(connectedAtMs + chunk.at);
  }
  return times;
}

/**
 * Resolves true as soon as `done()` holds, checked on every socket event, or with `done()` at the
 * deadline. Event-driven rather than polled: a run may hold a thousand sockets.
 */
function waitForSocket(client: ProtocolClient, done: () => boolean, timeoutMs: number): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  const socket = client.socket;
  return new Promise((resolve) => {
    // ProtocolClient's own listeners were added first, so they have recorded the event when this runs
    const check = (): void => {
      if (done()) finish(true);
    };
    const finish = (ok: boolean): void => {
      clearTimeout(timer);
      socket.off('data', check).off('end', check).off('close', check);
      resolve(ok);
    };
    const timer = setTimeout(() => finish(done()), timeoutMs);
    socket.on('data', check).on('end', check).on('close', check);
  });
}

/** One client's session in progress. */
interface Session {
  client: ProtocolClient;
  trace: SessionTrace;
  plan: SessionPlan;
  startedAt: number;
  /** when the server's FIN (EOF) was read; ProtocolClient's own time includes its /proc lookup */
  eofAt?: number;
}

function endTrace(trace: SessionTrace, end: SessionEnd, atMs: number, detail?: string): void {
  Object.assign(trace, { end, endedAt: atMs, detail });
}

const sinceStart = (s: Session): number => Date.now() - s.startedAt;

/** Records how the server ended the connection; a socket error that is no reset is its own kind. */
function endByServer(s: Session, ending: Ending): void {
  const kind: CloseKind | 'error' = ending.kind === 'open' ? 'error' : ending.kind;
  const at = ending.via === 'end' && s.eofAt !== undefined ? s.eofAt - s.startedAt : s.client.connectedAt - s.startedAt + ending.at;
  endTrace(s.trace, kind, at, ending.error);
}

/** Sends the messages in lock-step; false when the session ended before every ack arrived. */
async function exchangeMessages(s: Session): Promise<boolean> {
  const { client, trace, plan } = s;
  const valid = (): boolean => countAcks(client.received).valid;
  for (let n = 1; n <= plan.messages; n++) {
    await client.send(plan.text);
    await waitForSocket(client, () => client.acks >= n || client.ending !== undefined || !valid(), plan.timeoutMs);
    trace.ackAt = ackArrivalTimes(client.arrivals, client.connectedAt - s.startedAt);
    if (!valid()) {
      endTrace(trace, 'bad-reply', sinceStart(s), JSON.stringify(client.text.slice(0, 40)));
      return false;
    }
    if (client.acks >= n) continue;
    if (client.ending) endByServer(s, client.ending);
    else endTrace(trace, 'timed-out', sinceStart(s), `no ack ${n} within ${plan.timeoutMs} ms`);
    return false;
  }
  return true;
}

/** Sends goodbye and records how (and whether) the server closed. */
async function sayGoodbye(s: Session): Promise<void> {
  await s.client.send('goodbye');
  await waitForSocket(s.client, () => s.client.ending !== undefined, s.plan.timeoutMs);
  if (s.client.ending) endByServer(s, s.client.ending);
  else endTrace(s.trace, 'open', sinceStart(s));
}

/** Runs one client's session, recording into `trace` as it goes (the live view reads it meanwhile). */
export async function runSession(trace: SessionTrace, plan: SessionPlan, startedAt: number): Promise<void> {
  let client: ProtocolClient;
  try {
    client = await ProtocolClient.connect(plan.host, plan.port, plan.timeoutMs);
  } catch (err) {
    return endTrace(trace, 'no-connect', Date.now() - startedAt, connectFailureReason(err as NodeJS.ErrnoException, plan.timeoutMs));
  }
  const session: Session = { client, trace, plan, startedAt };
  // prepended: runs before ProtocolClient's own 'end' listener, which first reads /proc to classify
  client.socket.prependOnceListener('end', () => (session.eofAt = Date.now()));
  trace.connectedAt = client.connectedAt - startedAt;
  try {
    if (!(await exchangeMessages(session))) return;
    if (plan.goodbye) await sayGoodbye(session);
    else endTrace(trace, 'closed', sinceStart(session));
  } finally {
    client.close();
  }
}
