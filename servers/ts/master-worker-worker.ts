// A master-worker worker: one event loop serving every connection the primary passes to it, with
// the event-loop model's session code.
import type { Socket } from 'net';
import { optionsFromCommandLine } from './options';
import { onShutdownSignal, SessionSet } from './lifecycle';
import { serveSocket } from './session';
import type { PrimaryToWorker, WorkerToPrimary } from './master-worker-messages';

const options = optionsFromCommandLine({ program: 'master-worker-worker', workers: null });
const sessions = new SessionSet();
let draining = false;

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  await sessions.drain(options.graceMs);
  process.exit(0);
}

process.on('message', (message: PrimaryToWorker, socket: Socket | undefined) => {
  if (message.cmd === 'connection' && socket) {
    // Sockets re-created from a passed handle do not inherit the server's allowHalfOpen; we need
    // it to write the acks still owed after a client's FIN.
    socket.allowHalfOpen = true;
    const session = sessions.add(serveSocket(socket, options));
    if (draining) session.finish();
  } else if (message.cmd === 'drain') {
    void drain();
  }
});
onShutdownSignal(() => void drain());

const ready: WorkerToPrimary = { cmd: 'ready' };
process.send?.(ready);
