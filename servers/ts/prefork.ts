// prefork: the parent binds the listening socket once, then forks N workers before any client
// comes. Each worker accepts ONE connection from the shared socket itself, serves it to the end,
// then asks for the socket again. The parent never accepts; it only hands out the socket, reaps
// workers and replaces any that die.
import { fork, type ChildProcess, type SendHandle } from 'child_process';
import * as path from 'path';
import { optionsFromCommandLine, sessionFlags } from './options';
import { announceReady, exitOnStartupError, formatListenAddress, listenAddressOf, onShutdownSignal } from './lifecycle';
import { bindListenHandle, type BoundHandle, type RawListenHandle } from './listen-handle';
import { ChildSet } from './child-processes';
import type { ParentToWorker, WorkerToParent } from './prefork-messages';

const PROGRAM = 'prefork';
const WORKER_MODULE = path.join(__dirname, 'prefork-worker.js');
/** Pause before replacing a worker that died, so a worker that cannot start does not fork-bomb. */
const RESPAWN_DELAY_MS = 100;

async function main(): Promise<void> {
  const options = optionsFromCommandLine({ program: PROGRAM, workers: 5 });
  let bound: BoundHandle;
  try {
    bound = await bindListenHandle(listenAddressOf(options));
  } catch (err) {
    exitOnStartupError(PROGRAM, `cannot listen on ${formatListenAddress(listenAddressOf(options))}`, err);
  }
  const listenHandle: RawListenHandle = bound.handle;
  const workers = new ChildSet();
  const everListening = new Set<number>();
  let announced = false;
  let shuttingDown = false;

  function send(child: ChildProcess, message: ParentToWorker, handle?: RawListenHandle): void {
    if (!child.connected) return;
    // A raw libuv TCP or pipe handle is a valid handle to pass (type 'net.Native'), but @types/node only
    // lists Socket/Server there.
    child.send(message, handle as unknown as SendHandle, () => undefined);
  }

  function onWorkerMessage(child: ChildProcess, message: WorkerToParent): void {
    if (message.cmd === 'want-listen-socket' && !shuttingDown) {
      send(child, { cmd: 'listen' }, listenHandle);
    } else if (message.cmd === 'listening' && child.pid !== undefined) {
      everListening.add(child.pid);
      if (!announced && everListening.size >= options.workers) {
        announced = true;
        announceReady(bound.address);
      }
    }
  }

  function startWorker(): void {
    const child = fork(WORKER_MODULE, sessionFlags(options), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.on('message', (message: WorkerToParent) => onWorkerMessage(child, message));
    workers.add(child, () => {
      if (child.pid !== undefined) everListening.delete(child.pid);
      if (!shuttingDown) setTimeout(() => !shuttingDown && startWorker(), RESPAWN_DELAY_MS);
    });
  }

  onShutdownSignal(async () => {
    shuttingDown = true;
    workers.tell({ cmd: 'drain' } satisfies ParentToWorker);
    listenHandle.close();
    await workers.waitAllExited(options.graceMs + 1000);
    process.exit(0);
  });

  for (let i = 0; i < options.workers; i++) startWorker();
}

void main();
