// thread-pool: the main thread accepts and puts each connection, unread, into ONE shared FIFO queue;
// N worker threads each take the next whole session when idle and keep it to its end. The limit of
// sessions served at once is exactly N.
import { createServer, type Socket } from 'net';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { optionsFromCommandLine } from './options';
import { announceReady, listenAddressOf, listenOrExit, onShutdownSignal, withinGrace } from './lifecycle';
import { RelayedSession } from './thread-pool-relay';
import type { SessionLimits } from './session';

const PROGRAM = 'thread-pool';
const WORKER_MODULE = path.join(__dirname, 'thread-pool-worker.js');

interface PoolThread {
  worker: Worker;
  session: RelayedSession | null;
}

async function main(): Promise<void> {
  const options = optionsFromCommandLine({ program: PROGRAM, workers: 5 });
  const limits: SessionLimits = { delayMs: options.delayMs, maxMessageBytes: options.maxMessageBytes };
  const queue: Socket[] = [];
  const threads = new Set<PoolThread>();
  const idle: PoolThread[] = [];
  let shuttingDown = false;

  function dispatch(): void {
    while (!shuttingDown && idle.length > 0 && queue.length > 0) {
      // Both arrays are non-empty (loop condition).
      const thread = idle.shift()!;
      const session = new RelayedSession(queue.shift()!, thread.worker);
      thread.session = session;
      void session.workerFree.then(() => {
        if (thread.session !== session || !threads.has(thread)) return;
        thread.session = null;
        idle.push(thread);
        dispatch();
      });
    }
  }

  function startThread(): Promise<void> {
    const thread: PoolThread = { worker: new Worker(WORKER_MODULE, { workerData: limits }), session: null };
    threads.add(thread);
    thread.worker.on('error', (err) => process.stderr.write(`${PROGRAM}: worker thread failed: ${String(err)}\n`));
    thread.worker.once('exit', () => {
      // Only a crash ends a worker before shutdown: drop its client, keep the pool at N threads.
      threads.delete(thread);
      const idleAt = idle.indexOf(thread);
      if (idleAt >= 0) idle.splice(idleAt, 1);
      thread.session?.destroy();
      if (!shuttingDown) void startThread().then(dispatch);
    });
    return new Promise((resolve) =>
      thread.worker.once('online', () => {
        idle.push(thread);
        resolve();
      }),
    );
  }

  const server = createServer({ pauseOnConnect: true, allowHalfOpen: true }, (socket) => {
    socket.on('error', () => undefined); // a queued client may reset; it is dropped when its turn comes
    queue.push(socket);
    dispatch();
  });

  await Promise.all(Array.from({ length: options.workers }, startThread));
  onShutdownSignal(async () => {
    shuttingDown = true;
    server.close();
    for (const socket of queue.splice(0)) socket.destroy();
    const sessions = [...threads].map((t) => t.session).filter((s): s is RelayedSession => s !== null);
    for (const session of sessions) session.finish();
    await withinGrace(Promise.all(sessions.map((s) => s.freed)), options.graceMs);
    for (const session of sessions) session.destroy();
    await Promise.all([...threads].map((t) => t.worker.terminate()));
    process.exit(0);
  });

  announceReady(await listenOrExit(server, listenAddressOf(options), PROGRAM));
}

void main();
