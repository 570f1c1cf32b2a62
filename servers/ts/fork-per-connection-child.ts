// A fork-per-connection child: receives one client socket from the parent, serves that session,
// then exits. Kept light (no imports beyond the session code) since one is started per connection.
import type { Socket } from 'net';
import { optionsFromCommandLine } from './options';
import { passedSocketServer } from './passed-socket-server';

/** Parent → child: 'socket' comes with the client socket attached; 'drain' asks to finish up. */
export type ConnectionChildMessage = 'socket' | 'drain';

function runChild(): void {
  const server = passedSocketServer(optionsFromCommandLine({ program: 'fork-per-connection-child', workers: null }));
  process.on('message', (message: ConnectionChildMessage, socket: Socket | undefined) => {
    if (message === 'socket' && socket) {
      // Like a C child doing close() and exit(): once our FIN is out, the session is over.
      void server.serve(socket).freed.then(() => process.exit(0));
    } else if (message === 'drain') {
      void server.drain();
    }
  });
  process.on('disconnect', () => void server.drain());
}

if (require.main === module) runChild();
