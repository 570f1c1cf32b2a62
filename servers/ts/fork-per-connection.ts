// fork-per-connection: the parent accepts, forks a fresh child process for every connection and
// hands the socket over (fd passing). Without keepOpen Node closes the parent's copy once the child
// has it, so the parent holds no client socket. Every child is reaped when it exits.
import { createServer } from 'net';
import { fork } from 'child_process';
import * as path from 'path';
import { optionsFromCommandLine, sessionFlags } from './options';
import { announceReady, listenAddressOf, listenOrExit, onShutdownSignal } from './lifecycle';
import { ChildSet, descriptorHeadroom } from './child-processes';
import type { ConnectionChildMessage } from './fork-per-connection-child';

const PROGRAM = 'fork-per-connection';
const CHILD_MODULE = path.join(__dirname, 'fork-per-connection-child.js');
/** Descriptors a fork needs in the parent at once: the IPC socket pair and libuv's exec-status pipe. */
const SPAWN_DESCRIPTORS = 4;

async function main(): Promise<void> {
  const options = optionsFromCommandLine({ program: PROGRAM, workers: null });
  const children = new ChildSet();
  let shuttingDown = false;

  // pauseOnConnect: the parent never reads a byte; the child gets the socket untouched.
  const server = createServer({ pauseOnConnect: true }, (socket) => {
    socket.on('error', () => undefined);
    if (shuttingDown) {
      socket.destroy();
      return;
    }
    // A child costs the parent a few descriptors (its IPC channel and stdio); short of them, drop this
    // client instead of attempting a spawn that would fail half-way and leak what it had opened.
    if ((descriptorHeadroom() ?? Infinity) < SPAWN_DESCRIPTORS) {
      socket.destroy();
      return;
    }
    let child: ReturnType<typeof fork>;
    try {
      child = fork(CHILD_MODULE, sessionFlags(options), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    } catch {
      socket.destroy(); // no descriptors left for the child's pipes (EMFILE): drop this client only
      return;
    }
    children.add(child);
    child.on('error', () => socket.destroy()); // could not fork: drop this client only
    if (!child.connected) {
      // Out of descriptors for the IPC channel: the child cannot be handed the socket. (No kill(): a
      // spawn that failed half-way can leave a meaningless pid behind.)
      socket.destroy();
      return;
    }
    const handOver: ConnectionChildMessage = 'socket';
    child.send(handOver, socket, (err) => err && socket.destroy());
  });

  onShutdownSignal(async () => {
    shuttingDown = true;
    server.close();
    const drain: ConnectionChildMessage = 'drain';
    children.tell(drain);
    await children.waitAllExited(options.graceMs + 1000);
    process.exit(0);
  });

  announceReady(await listenOrExit(server, listenAddressOf(options), PROGRAM));
}

void main();
