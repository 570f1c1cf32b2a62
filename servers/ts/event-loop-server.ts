// The event-loop server: one thread, libuv readiness notification, non-blocking sockets, timers for
// the work delay. Every connection becomes a session at once; there is no limit on how many.
// Used as is by the event-loop model and inside each master-worker worker.
import { createServer, type Server } from 'net';
import { SessionSet } from './lifecycle';
import { serveSocket, type SessionLimits } from './session';

export function createEventLoopServer(limits: SessionLimits, sessions: SessionSet): Server {
  // allowHalfOpen: after a client's FIN we still owe it the acks for what it sent.
  return createServer({ allowHalfOpen: true }, (socket) => {
    sessions.add(serveSocket(socket, limits));
  });
}
