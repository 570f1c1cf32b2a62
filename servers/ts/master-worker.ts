// master-worker: a primary process and one single-threaded event-loop worker per core (Node's
// cluster). With round-robin scheduling the primary accepts each connection and passes its
// descriptor to the next worker, which serves it like the event-loop model. The primary reaps and
// replaces any worker that dies while the server runs.
import cluster, { type Worker } from 'cluster';
import * as os from 'os';
import * as path from 'path';
import { optionsFromCommandLine, sessionFlags } from './options';
import { announceReady, onShutdownSignal } from './lifecycle';
import { ChildSet } from './child-processes';
import type { PrimaryToWorker } from './master-worker-messages';

const PROGRAM = 'master-worker';
const WORKER_MODULE = path.join(__dirname, 'master-worker-worker.js');
/** Pause before replacing a dead worker, so a worker that cannot start does not fork-bomb. */
const RESPAWN_DELAY_MS = 100;

function main(): void {
  const options = optionsFromCommandLine({ program: PROGRAM, workers: os.availableParallelism() });
  const workers = new ChildSet();
  const listeningWorkers = new Set<number>();
  let announced = false;
  let shuttingDown = false;

  // The primary accepts and hands each connection to the next worker (fd passing), on every platform.
  cluster.schedulingPolicy = cluster.SCHED_RR;
  cluster.setupPrimary({ exec: WORKER_MODULE, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  // The primary keeps one shared listening handle per (host, port) that workers ask for, and closes
  // it when no worker listens on it any more. A replacement therefore asks for the same port as the
  // live workers (maybe 0), or, if none is left, for the port we announced.
  let portToRequest = options.port;
  let announcedPort = options.port;

  function startWorker(): void {
    if (announced && listeningWorkers.size === 0) portToRequest = announcedPort;
    cluster.setupPrimary({ args: [...sessionFlags(options), '--host', options.host, '--port', String(portToRequest)] });
    const worker: Worker = cluster.fork();
    workers.add(worker.process, (code) => {
      if (worker.process.pid !== undefined) listeningWorkers.delete(worker.process.pid);
      if (!announced) {
        // A worker that dies before the server is up (e.g. cannot listen) has said why on stderr.
        void stopWorkersAndExit(code || 1);
      } else if (!shuttingDown) {
        setTimeout(() => !shuttingDown && startWorker(), RESPAWN_DELAY_MS);
      }
    });
  }

  cluster.on('listening', (worker, address) => {
    if (worker.process.pid === undefined) return;
    listeningWorkers.add(worker.process.pid);
    if (announced || listeningWorkers.size < options.workers) return;
    announced = true;
    announcedPort = address.port;
    announceReady({ address: address.address ?? options.host, port: address.port });
  });

  async function stopWorkersAndExit(exitCode: number): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    workers.tell({ cmd: 'drain' } satisfies PrimaryToWorker);
    await workers.waitAllExited(options.graceMs + 1000);
    process.exit(exitCode);
  }

  onShutdownSignal(() => void stopWorkersAndExit(0));

  for (let i = 0; i < options.workers; i++) startWorker();
}

main();
