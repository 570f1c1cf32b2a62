import { makeDeadlines } from '../harness/deadlines';
import { launchTarget, LaunchError } from '../harness/launcher';
import { Target } from '../harness/target';
import { BenchImplementation, BenchLevel } from './bench-report';
import { runC10k } from './c10k';
import { LoadError, runLoad } from './load-generator';
import { treeRssBytes } from './server-memory';

export interface BenchSettings {
  connections: number[];
  durationMs: number;
  warmupMs: number;
  pipeline: number;
  threads: number;
  /** connections for the C10K step; undefined: no C10K step */
  c10k?: number;
  multiplier: number;
}

export interface BenchHooks {
  onLevelStart?: (connections: number) => void;
  onProgress?: (connections: number, acks: number, elapsedMs: number) => void;
  onLevelDone?: (level: BenchLevel) => void;
}

/** What a bench target is: a target plus the most connections it can sensibly be given. */
export interface BenchTarget {
  target: Target;
  baseline?: boolean;
  /** levels above this are skipped with `capReason` (e.g. a Node process per connection) */
  maxConnections?: number;
  capReason?: string;
  /** run the C10K step on this one (when settings.c10k is set) */
  c10k?: boolean;
}

/**
 * Benchmarks one implementation: starts it (work delay 0), runs the closed-loop load at each
 * connection level on that one server, then the C10K step if asked; the server is stopped at the end.
 */
export async function benchTarget(spec: BenchTarget, settings: BenchSettings, hooks: BenchHooks = {}): Promise<BenchImplementation> {
  const target = { ...spec.target, delayMs: 0 };
  const impl: BenchImplementation = { name: target.name, cmd: target.cmd, baseline: spec.baseline, levels: [] };
  let server;
  try {
    server = await launchTarget(target, makeDeadlines(0, settings.multiplier));
  } catch (err) {
    if (!(err instanceof LaunchError)) throw err;
    impl.error = err.message;
    return impl;
  }
  try {
    for (const connections of settings.connections) {
      const level: BenchLevel = { connections };
      if (spec.maxConnections !== undefined && connections > spec.maxConnections) {
        level.skipped = spec.capReason ?? `more than ${spec.maxConnections} connections`;
      } else {
        hooks.onLevelStart?.(connections);
        try {
          level.result = await runLoad({
            host: server.host,
            port: server.port,
            connections,
            pipeline: settings.pipeline,
            warmupMs: settings.warmupMs,
            durationMs: settings.durationMs,
            threads: settings.threads,
            onProgress: (acks, elapsed) => hooks.onProgress?.(connections, acks, elapsed),
          });
          level.rssBytes = treeRssBytes(server);
        } catch (err) {
          if (!(err instanceof LoadError)) throw err;
          level.skipped = err.message;
        }
      }
      impl.levels.push(level);
      hooks.onLevelDone?.(level);
      const exit = server.exitStatus();
      if (exit) {
        impl.error = `the server exited during the run (${exit.signal ?? `code ${exit.code}`})`;
        break;
      }
    }
  } finally {
    await server.stop();
  }
  if (settings.c10k !== undefined && spec.c10k && impl.error === undefined) impl.c10k = await c10kStep(target, settings.c10k, settings.multiplier);
  return impl;
}

/** C10K on a fresh server, so its idle memory is a true baseline. */
async function c10kStep(target: Target, connections: number, multiplier: number): Promise<BenchImplementation['c10k']> {
  let server;
  try {
    server = await launchTarget(target, makeDeadlines(0, multiplier));
  } catch (err) {
    if (!(err instanceof LaunchError)) throw err;
    return { skipped: err.message };
  }
  try {
    return await runC10k(server, connections, 120_000 * multiplier);
  } finally {
    await server.stop();
  }
}
