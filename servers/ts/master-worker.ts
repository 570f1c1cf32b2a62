// master-worker: a primary process and one single-threaded event-loop worker per core, run with
// Node's cluster module. The primary owns the listening socket, accepts, and passes each accepted
// descriptor to the next worker in round-robin order (fd passing over the IPC channel); the worker
// serves it like the event-loop model. The primary reaps and replaces any worker that dies.
//
// Why not cluster's built-in round-robin: its primary closes the listening socket whenever no worker
// is alive, so with one worker, clients are refused while a killed worker is being replaced. A C
// master keeps its socket; so does this one, and connections wait in its queue meanwhile.
import cluster, { type Worker } from 'cluster';
import { createServer, type AddressInfo, type Socket } from 'net';
import * as os from 'os';
import * as path from 'path';
import { optionsFromCommandLine, sessionFlags } from './options';
import { announceReady, formatListenAddress, listen, listenAddressOf, onShutdownSignal, reportStartupError } from './lifecycle';
import { ChildSet } from './child-processes';
import type { PrimaryToWorker, WorkerToPrimary } from './master-worker-messages';

const PROGRAM = 'master-worker';
const WORKER_MODULE = path.join(__dirname, 'master-worker-worker.js');
/** Pause before replacing a dead worker, so a worker that cannot start does not fork-bomb. */
const RESPAWN_DELAY_MS = 50;

async function main(): Promise<void> {
  const options = optionsFromCommandLine({ program: PROGRAM, workers: os.availableParallelism() });
  const workers = new ChildSet();
  const ready: Worker[] = []; // workers that take connections, in round-robin order
  const waiting: Socket[] = []; // accepted while no worker was ready
  let next = 0;
  let announced = false;
  let shuttingDown = false;
  let allReady!: () => void;
  const allWorkersReady = new Promise<void>((resolve) => (allReady = resolve));

  cluster.setupPrimary({ exec: WORKER_MODULE, args: sessionFlags(options), stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });

  function handOver(socket: Socket): void {
    if (ready.length === 0) {
      waiting.push(socket);
      return;
    }
    const worker = ready[next++ % ready.length];
    const message: PrimaryToWorker = { cmd: 'connection' };
    // Without keepOpen, Node closes the primary's copy once the worker has the descriptor.
    worker.send(message, socket, (err: Error | null) => err && socket.destroy());
  }

  function startWorker(): void {
    const worker = cluster.fork();
    worker.on('message', (message: WorkerToPrimary) => {
      if (message.cmd !== 'ready' || shuttingDown) return;
      ready.push(worker);
      if (ready.length >= options.workers) allReady();
      for (const socket of waiting.splice(0)) handOver(socket);
    });
    workers.add(worker.process, (code) => {
      const at = ready.indexOf(worker);
      if (at >= 0) ready.splice(at, 1);
      if (!announced) {
        // A worker that dies before the server is up has said why on stderr.
        void stopAndExit(code || 1);
      } else if (!shuttingDown) {
        setTimeout(() => !shuttingDown && startWorker(), RESPAWN_DELAY_MS);
      }
    });
  }

  const server = createServer({ pauseOnConnect: true }, (socket) => {
    socket.on('error', () => undefined); // a waiting client may reset; its worker will notice
    if (shuttingDown) socket.destroy();
    else handOver(socket);
  });

  async function stopAndExit(exitCode: number): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    server.close();
    for (const socket of waiting.splice(0)) socket.destroy();
    workers.tell({ cmd: 'drain' } satisfies PrimaryToWorker);
    await workers.waitAllExited(options.graceMs + 1000);
    process.exit(exitCode);
  }

  onShutdownSignal(() => void stopAndExit(0));
  for (let i = 0; i < options.workers; i++) startWorker();
  await allWorkersReady;
  let address: AddressInfo | string;
  try {
    address = await listen(server, listenAddressOf(options), PROGRAM);
  } catch (err) {
    // Stop (and reap) the workers before leaving.
    await stopAndExit(reportStartupError(PROGRAM, `cannot listen on ${formatListenAddress(listenAddressOf(options))}`, err));
    return;
  }
  if (shuttingDown) return;
  announced = true;
  announceReady(address);
}

void main();
