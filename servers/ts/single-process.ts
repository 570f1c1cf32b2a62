// single-process: one session at a time. Node cannot block in accept(), so accepted sockets wait
// paused and unread in a FIFO queue (our stand-in for the kernel backlog); the head is served to
// its end before the next one is touched.
import { createServer, type Socket } from 'net';
import { optionsFromCommandLine } from './options';
import { announceReady, listenAddressOf, listenOrExit, onShutdownSignal, SessionSet } from './lifecycle';
import { serveSocket } from './session';

const PROGRAM = 'single-process';

async function main(): Promise<void> {
  const options = optionsFromCommandLine({ program: PROGRAM, workers: null });
  const waiting: Socket[] = [];
  const current = new SessionSet();
  let serving = false;
  let draining = false;

  async function serveInArrivalOrder(): Promise<void> {
    if (serving) return;
    serving = true;
    for (let next = waiting.shift(); next && !draining; next = waiting.shift()) {
      await current.add(serveSocket(next, options)).freed;
    }
    serving = false;
  }

  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined); // a waiting client may reset; it is dropped when its turn comes
    waiting.push(socket);
    void serveInArrivalOrder();
  });

  onShutdownSignal(async () => {
    draining = true;
    server.close();
    for (const socket of waiting.splice(0)) socket.destroy();
    await current.drain(options.graceMs);
    process.exit(0);
  });

  announceReady(await listenOrExit(server, listenAddressOf(options), PROGRAM));
}

void main();
