import { connect, Socket } from 'node:net';
import { pollUntil } from '../harness/deadlines';
import { LaunchedTarget } from '../harness/launcher';
import { treeRssBytes } from './server-memory';

export interface C10kResult {
  connections: number;
  /** all connections established */
  connectMs: number;
  /** from the first connect until every connection had its ack */
  totalMs: number;
  acked: number;
  errors: number;
  firstError?: string;
  rssIdleBytes: number;
  rssLoadedBytes: number;
  /** (loaded - idle) / connections */
  bytesPerConnection: number;
}

/**
 * Opens `n` connections to a running server, all held open at once, sends one message on each and
 * waits for every ack; measures the time and the server's resident memory with all of them open.
 */
export async function runC10k(server: LaunchedTarget, n: number, deadlineMs: number): Promise<C10kResult> {
  const rssIdleBytes = treeRssBytes(server);
  const sockets: Socket[] = [];
  let acked = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = Date.now();
  const open = (): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const s = connect({ host: server.host, port: server.port });
      let bytes = 0;
      s.on('data', (d: Buffer) => {
        const before = bytes;
        bytes += d.length;
        if (before < 3 && bytes >= 3) acked++;
      });
      s.once('connect', () => resolve(s));
      s.on('error', (err) => {
        errors++;
        firstError ??= err.message;
        reject(err);
      });
    });
  try {
    // Batches keep the SYN rate within what the accept queue absorbs.
    for (let i = 0; i < n && Date.now() - started < deadlineMs; i += 500) {
      const batch = await Promise.allSettled(Array.from({ length: Math.min(500, n - i) }, () => open()));
      for (const r of batch) if (r.status === 'fulfilled') sockets.push(r.value);
    }
    const connectMs = Date.now() - started;
    for (const s of sockets) s.write('c10k\u0003');
    await pollUntil(() => acked >= sockets.length, Math.max(1000, deadlineMs - connectMs), 20);
    const totalMs = Date.now() - started;
    const rssLoadedBytes = treeRssBytes(server);
    return {
      connections: sockets.length,
      connectMs,
      totalMs,
      acked,
      errors,
      firstError,
      rssIdleBytes,
      rssLoadedBytes,
      bytesPerConnection: sockets.length > 0 ? Math.round((rssLoadedBytes - rssIdleBytes) / sockets.length) : 0,
    };
  } finally {
    for (const s of sockets) s.destroy();
  }
}
