// event-loop: one thread, libuv readiness notification, non-blocking sockets, timers for the work
// delay. Every connection becomes a session at once; there is no limit on how many.
import { createServer } from 'net';
import { optionsFromCommandLine } from './options';
import { announceReady, listenAddressOf, listenOrExit, onShutdownSignal, SessionSet } from './lifecycle';
import { serveSocket } from './session';

const PROGRAM = 'event-loop';

async function main(): Promise<void> {
  const options = optionsFromCommandLine({ program: PROGRAM, workers: null });
  const sessions = new SessionSet();
  // allowHalfOpen: after a client's FIN we still owe it the acks for what it sent.
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sessions.add(serveSocket(socket, options));
  });
  onShutdownSignal(async () => {
    server.close();
    await sessions.drain(options.graceMs);
    process.exit(0);
  });

  announceReady(await listenOrExit(server, listenAddressOf(options), PROGRAM));
}

void main();
