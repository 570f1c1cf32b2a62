// A prefork worker: serves one client at a time, accepting it directly from the listening socket
// shared by the parent. See prefork.ts.
import { createServer, type Server } from 'net';
import { optionsFromCommandLine } from './options';
import { onShutdownSignal, SessionSet } from './lifecycle';
import { serveSocket } from './session';
import { listenOnHandle } from './listen-handle';
import type { ParentToWorker, WorkerToParent } from './prefork-messages';

const options = optionsFromCommandLine({ program: 'prefork-worker', workers: null });
const sessions = new SessionSet();
let listening: Server | null = null;
let draining = false;

function tellParent(message: WorkerToParent): void {
  if (process.connected) process.send?.(message, undefined, {}, () => undefined);
}

/** Polls the shared socket until exactly one connection is accepted, then serves it. */
function acceptOne(listenHandle: object): void {
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    // Closing our copy of the listening fd right now (synchronously, inside libuv's accept loop)
    // stops that loop after this one accept; the socket stays open since the parent holds it.
    server.close();
    listening = null;
    const session = sessions.add(serveSocket(socket, options));
    void session.freed.then(() => {
      if (!draining) tellParent({ cmd: 'want-listen-socket' });
    });
  });
  server.on('error', (err) => {
    process.stderr.write(`prefork-worker: ${String(err)}\n`);
    process.exit(1);
  });
  listening = server;
  listenOnHandle(server, listenHandle, () => tellParent({ cmd: 'listening' }));
}

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  listening?.close();
  listening = null;
  await sessions.drain(options.graceMs);
  process.exit(0);
}

process.on('message', (message: ParentToWorker, handle: object | undefined) => {
  if (message.cmd === 'listen' && handle && !draining) acceptOne(handle);
  else if (message.cmd === 'drain') void drain();
});
// Without a parent nobody would hand us the socket again nor reap us: finish and leave.
process.on('disconnect', () => void drain());
onShutdownSignal(() => void drain());

tellParent({ cmd: 'want-listen-socket' });
