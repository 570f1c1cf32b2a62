// Messages between the thread-pool main thread and its worker threads.
import type { MessagePort } from 'worker_threads';

/** Main → worker (on the worker's parentPort): a whole session to serve, with its own channel. */
export interface SessionAssignment {
  type: 'session';
  port: MessagePort;
}

/** Main → worker, on the session's port: what happened on the client socket. */
export type SocketEvent =
  | { type: 'data'; bytes: Uint8Array }
  /** The client sent FIN. */
  | { type: 'eof' }
  /** The server drains: answer what was received, then close. */
  | { type: 'finish' }
  /** The socket is gone (reset, or destroyed): stop working for it. */
  | { type: 'abort' }
  /** The client does not read its acks (write buffer full): produce no more until 'write-drained'. */
  | { type: 'write-blocked' }
  | { type: 'write-drained' };

/** Worker → main, on the session's port: what to do with the socket. */
export type SessionCommand =
  /** Write this many acks (more than one only at delay 0, where the work takes no time). */
  | { type: 'ack'; count: number }
  /** The worker framed this many relayed bytes (lets the main thread bound what is in flight). */
  | { type: 'consumed'; bytes: number }
  /** Close gracefully (FIN) now; no further ack follows. */
  | { type: 'end' }
  /** Message too large: close the connection at once. */
  | { type: 'overflow' }
  /** The worker is done with this session and free for the next. */
  | { type: 'done' };
