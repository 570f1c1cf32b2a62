// What a process serving sockets passed from its parent needs (fork-per-connection children and
// master-worker workers): serve each socket, and drain then exit 0 on request, on disconnect or signal.
import type { Socket } from 'net';
import type { ServerOptions } from './options';
import { onShutdownSignal, SessionSet } from './lifecycle';
import { serveSocket, SocketSession } from './session';

export interface PassedSocketServer {
  /** Serves one socket received from the parent. */
  serve(socket: Socket): SocketSession;
  /** Finishes every session within the grace period, then exits 0. */
  drain(): Promise<void>;
}

export function passedSocketServer(options: ServerOptions): PassedSocketServer {
  const sessions = new SessionSet();
  let draining = false;
  const drain = async (): Promise<void> => {
    if (draining) return;
    draining = true;
    await sessions.drain(options.graceMs);
    process.exit(0);
  };
  onShutdownSignal(() => void drain());
  return {
    serve(socket) {
      // Sockets re-created from a passed handle do not inherit the server's allowHalfOpen; we need
      // it to write the acks still owed after a client's FIN.
      socket.allowHalfOpen = true;
      const session = sessions.add(serveSocket(socket, options));
      if (draining) session.finish();
      return session;
    },
    drain,
  };
}
