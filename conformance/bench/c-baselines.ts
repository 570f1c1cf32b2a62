import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cBuildDir } from '../harness/paths';

/** The minimal C programs the benchmark compares against (servers/c/bench/, built with the C servers). */
export function cBenchBinary(name: 'minimal-epoll-server' | 'closed-loop-client'): string | undefined {
  const file = join(cBuildDir(), 'bench', name);
  return existsSync(file) ? file : undefined;
}

export interface CClientResult {
  connections: number;
  pipeline: number;
  durationMs: number;
  acks: number;
  msgsPerSec: number;
  errors: number;
}

/** Runs the minimal C closed-loop client once against host:port and returns its JSON line. */
export function runCClient(binary: string, host: string, port: number, connections: number, pipeline: number, warmupMs: number, durationMs: number): Promise<CClientResult> {
  const args = ['--host', host, '--port', String(port), '--connections', String(connections), '--pipeline', String(pipeline), '--warmup-ms', String(warmupMs), '--duration-ms', String(durationMs)];
  return new Promise((resolve, reject) => {
    execFile(binary, args, { timeout: warmupMs + durationMs + 30_000 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as CClientResult);
      } catch {
        reject(new Error(`closed-loop-client gave no result: ${err?.message ?? ''} ${stderr.trim()}`));
      }
    });
  });
}
