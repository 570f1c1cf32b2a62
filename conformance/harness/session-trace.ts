/** Who ended a case's connection, as the JSON report's `sessions` say it. */
export type EndedBy = 'server-fin' | 'server-rst' | 'client';

/** How a lock-step session of the client command came out. */
export type SessionOutcome =
  | 'fin' // the server closed gracefully
  | 'rst' // the server reset the connection
  | 'open' // the server left the connection open after goodbye; we gave up and closed it
  | 'closed' // we closed our side after the last ack (no --goodbye)
  | 'timed-out' // an ack did not arrive within --timeout-ms
  | 'no-connect' // the connection never opened
  | 'bad-reply' // the server sent bytes other than `ack`
  | 'error'; // a socket error other than a reset, or an end of stream on a socket still open

/**
 * What one client connection saw: a case's session (the JSON report's `sessions`, drawn as the HTML
 * timeline) or a client of the client command (its terminal timeline and summary). Times are ms since
 * the origin its recorder chose: the case's start, or the client command's start. The client command
 * fills a trace in while its run goes on (the live view reads it meanwhile).
 */
export interface SessionTrace {
  /** the client's name: a case's label ("held 3"), or the client command's "c1", "c2", … */
  label: string;
  /** when the connection opened; absent until then, and for good if it never did (client command) */
  connectedAt?: number;
  /**
   * when the server accept()ed the connection (read from the TCP tables, see harness/accept-queue.ts);
   * absent where not sampled, or not seen accepted. From connectedAt until then it waited in the
   * kernel's accept queue.
   */
  acceptedAt?: number;
  /** when each ack arrived, in order */
  acksAt: number[];
  /** when the connection ended (client command: when the session did); absent while it is open */
  endedAt?: number;
  /** a case's session: who ended the connection; absent while it is open */
  endedBy?: EndedBy;
  /** the client command: how the session came out, including what is no close (timed out, bad reply) */
  outcome?: SessionOutcome;
  /** the client command: why, for a person (the error, the unexpected bytes, the ack that never came) */
  detail?: string;
}

/**
 * When the server began serving a session whose acceptance is known: its first ack less the work of one
 * message (`workMs`, the work delay D), and not before it was accepted. Undefined until the first ack,
 * and where acceptedAt is unknown. Between acceptedAt and this, the accepted session waited in the
 * server's own queue (an application queue, a paused socket, a busy worker).
 */
export function servedFrom(trace: SessionTrace, workMs: number | undefined): number | undefined {
  const firstAck = trace.acksAt[0];
  if (trace.acceptedAt === undefined || firstAck === undefined) return undefined;
  return Math.min(firstAck, Math.max(trace.acceptedAt, firstAck - (workMs ?? 0)));
}
