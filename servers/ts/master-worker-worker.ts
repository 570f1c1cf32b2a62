// A master-worker worker: one event loop serving every connection the primary passes to it, with
// the event-loop model's session code.
import type { Socket } from 'net';
import { optionsFromCommandLine } from './options';
import { passedSocketServer } from './passed-socket-server';
import type { PrimaryToWorker, WorkerToPrimary } from './master-worker-messages';

const server = passedSocketServer(optionsFromCommandLine({ program: 'master-worker-worker', workers: null }));

process.on('message', (message: PrimaryToWorker, socket: Socket | undefined) => {
  if (message.cmd === 'connection' && socket) server.serve(socket);
  else if (message.cmd === 'drain') void server.drain();
});

const ready: WorkerToPrimary = { cmd: 'ready' };
process.send?.(ready);
