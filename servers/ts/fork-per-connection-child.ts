// A fork-per-connection child: receives one client socket from the parent, serves that session,
// then exits. Kept light (no imports beyond the session code) since one is started per connection.
import type { Socket } from 'net';
import { optionsFromCommandLine } from './options';
import { onShutdownSignal, SessionSet } from './lifecycle';
import { serveSocket } from './session';

/** Parent → child: 'socket' comes with the client socket attached; 'drain' asks to finish up. */
export type ConnectionChildMessage = 'socket' | 'drain';

function runChild(): void {
  const options = optionsFromCommandLine({ program: 'fork-per-connection-child', workers: null });
  const sessions = new SessionSet();
  let draining = false;

  async function drain(): Promise<void> {
    if (draining) return;
    draining = true;
    await sessions.drain(options.graceMs);
    process.exit(0);
  }

  process.on('message', (message: ConnectionChildMessage, socket: Socket | undefined) => {
    if (message === 'socket' && socket) {
      // Sockets re-created from a passed handle do not inherit the server's allowHalfOpen; we need
      // it to write the acks still owed after a client's FIN.
      socket.allowHalfOpen = true;
      const session = sessions.add(serveSocket(socket, options));
      if (draining) session.finish();
      // Like a C child doing close() and exit(): once our FIN is out, the session is over.
      void session.freed.then(() => process.exit(0));
    } else if (message === 'drain') {
      void drain();
    }
  });
  process.on('disconnect', () => void drain());
  onShutdownSignal(() => void drain());
}

if (require.main === module) runChild();
