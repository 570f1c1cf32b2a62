// A master-worker worker: the event-loop server, fed with connections by the cluster primary.
import { optionsFromCommandLine } from './options';
import { exitOnStartupError, formatAddress, onShutdownSignal, SessionSet } from './lifecycle';
import { createEventLoopServer } from './event-loop-server';
import type { PrimaryToWorker } from './master-worker-messages';

const PROGRAM = 'master-worker-worker';
const options = optionsFromCommandLine({ program: PROGRAM, workers: null });
const sessions = new SessionSet();
const server = createEventLoopServer(options, sessions);
let draining = false;

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  // Still waiting for the primary's handle: no session can exist yet (and closing now trips Node).
  if (!server.listening) process.exit(0);
  server.close(); // tells the primary to send us no more connections
  await sessions.drain(options.graceMs);
  process.exit(0);
}

server.once('error', (err) => exitOnStartupError(PROGRAM, `cannot listen on ${formatAddress(options.host, options.port)}`, err));
// Under cluster, listen() asks the primary for the shared handle; 'listening' is reported to it.
server.listen({ host: options.host, port: options.port });
process.on('message', (message: PrimaryToWorker) => {
  if (message.cmd === 'drain') void drain();
});
onShutdownSignal(() => void drain());
