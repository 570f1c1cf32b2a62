/** Messages between the load generator (main thread) and its load worker threads. */

export interface LoadWorkerConfig {
  host: string;
  port: number;
  connections: number;
  /** Messages kept in flight on each connection (1 = strict request / response). */
  pipeline: number;
  /** Give up connecting after this long. */
  connectTimeoutMs: number;
}

/** Main → worker: start sending now; record from warm-up end for `measureMs`. */
export interface GoMessage {
  type: 'go';
  warmupMs: number;
  measureMs: number;
}

export type WorkerToMain =
  | { type: 'connected'; connections: number }
  | { type: 'connect-failed'; error: string }
  | { type: 'progress'; acks: number }
  | { type: 'done'; acks: number; errors: number; firstError?: string; measuredMs: number; histogram: string };
