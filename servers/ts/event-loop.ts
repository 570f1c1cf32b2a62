// event-loop: a single-threaded server serving any number of sessions at once (see event-loop-server.ts).
import { optionsFromCommandLine } from './options';
import { announceReady, listenOrExit, onShutdownSignal, SessionSet } from './lifecycle';
import { createEventLoopServer } from './event-loop-server';

const PROGRAM = 'event-loop';

async function main(): Promise<void> {
  const options = optionsFromCommandLine({ program: PROGRAM, workers: null });
  const sessions = new SessionSet();
  const server = createEventLoopServer(options, sessions);
  announceReady(await listenOrExit(server, options.host, options.port, PROGRAM));

  onShutdownSignal(async () => {
    server.close();
    await sessions.drain(options.graceMs);
    process.exit(0);
  });
}

void main();
