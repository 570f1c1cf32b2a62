import { Worker } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { compiledModule } from '../harness/paths';
import { GoMessage, LoadWorkerConfig, WorkerToMain } from './load-protocol';

export interface LoadOptions {
  host: string;
  port: number;
  connections: number;
  pipeline: number;
  warmupMs: number;
  durationMs: number;
  /** Worker threads that share the connections (one event loop each). */
  threads: number;
  /** Called about four times a second with the acks counted so far in the measuring window. */
  onProgress?: (acks: number, elapsedMs: number) => void;
}

/** Latency percentiles in microseconds. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

export interface LoadResult {
  connections: number;
  pipeline: number;
  threads: number;
  acks: number;
  measuredMs: number;
  msgsPerSec: number;
  latencyUs: LatencySummary;
  errors: number;
  firstError?: string;
}

/** A load generator could not even connect: the target is not serving. */
export class LoadError extends Error {
  override name = 'LoadError';
}

function startWorker(config: LoadWorkerConfig): Worker {
  return new Worker(compiledModule('conformance/bench/load-worker'), { workerData: config });
}

function nextMessage(worker: Worker): Promise<WorkerToMain> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: WorkerToMain) => {
      if (m.type === 'progress') return;
      worker.off('message', onMessage);
      worker.off('error', reject);
      resolve(m);
    };
    worker.on('message', onMessage);
    worker.once('error', reject);
  });
}

/** Shares `total` connections among `threads` workers as evenly as possible. */
export function shareConnections(total: number, threads: number): number[] {
  const n = Math.max(1, Math.min(threads, total));
  return Array.from({ length: n }, (_, i) => Math.floor(total / n) + (i < total % n ? 1 : 0));
}

/**
 * Closed-loop load at a fixed number of connections: each keeps `pipeline` messages in flight and
 * sends the next as soon as an ack arrives. Everything connects first; only acks after the warm-up
 * count, and the latency of each is recorded in one HDR histogram (merged from every thread).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const shares = shareConnections(options.connections, options.threads);
  const workers = shares.map((connections) =>
    startWorker({ host: options.host, port: options.port, connections, pipeline: options.pipeline, connectTimeoutMs: 10_000 }),
  );
  try {
    const connected = await Promise.all(workers.map((w) => nextMessage(w)));
    const failed = connected.find((m) => m.type === 'connect-failed');
    if (failed && failed.type === 'connect-failed') throw new LoadError(`cannot open ${options.connections} connections to ${options.host}:${options.port}: ${failed.error}`);

    const progress = new Map<Worker, number>();
    const started = Date.now();
    for (const w of workers) {
      w.on('message', (m: WorkerToMain) => {
        if (m.type !== 'progress') return;
        progress.set(w, m.acks);
        options.onProgress?.([...progress.values()].reduce((a, b) => a + b, 0), Date.now() - started);
      });
    }
    const done = workers.map((w) => nextMessage(w));
    const go: GoMessage = { type: 'go', warmupMs: options.warmupMs, measureMs: options.durationMs };
    for (const w of workers) w.postMessage(go);
    const results = await Promise.all(done);

    const merged = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
    let acks = 0;
    let errors = 0;
    let measuredMs = 0;
    // Each thread ends its own warm-up, so windows may differ a little: rates are summed per thread.
    let msgsPerSec = 0;
    let firstError: string | undefined;
    for (const r of results) {
      if (r.type !== 'done') continue;
      acks += r.acks;
      errors += r.errors;
      firstError ??= r.firstError;
      measuredMs = Math.max(measuredMs, r.measuredMs);
      if (r.measuredMs > 0) msgsPerSec += (r.acks * 1000) / r.measuredMs;
      merged.add(hdr.decodeFromCompressedBase64(r.histogram));
    }
    return {
      connections: options.connections,
      pipeline: options.pipeline,
      threads: workers.length,
      acks,
      measuredMs,
      msgsPerSec,
      latencyUs: {
        p50: merged.getValueAtPercentile(50),
        p90: merged.getValueAtPercentile(90),
        p99: merged.getValueAtPercentile(99),
        p999: merged.getValueAtPercentile(99.9),
        max: merged.maxValue,
        mean: merged.mean,
      },
      errors,
      firstError,
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
