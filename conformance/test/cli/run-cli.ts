import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../harness/paths';
import { listProcesses } from '../../harness/procfs';
import { RUN_MARKER_ENV } from '../../harness/reaper';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  pid: number;
}

/** Runs the CLI as a user would (through bin/), with colour off. */
export function cli(...args: string[]): Promise<CliRun> {
  return cliWith({}, ...args);
}

/** cli() with variables added to its environment. */
export function cliWith(env: NodeJS.ProcessEnv, ...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'server-models.js'), ...args], {
      env: { ...process.env, NO_COLOR: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr, pid: child.pid as number }));
  });
}

/** Live processes that a CLI run with this pid started (its run marker begins with its pid). */
export function leftBehindBy(cliPid: number): number[] {
  const prefix = `${RUN_MARKER_ENV}=${cliPid}-`;
  return listProcesses()
    .filter((p) => p.state !== 'Z')
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p.pid}/environ`, 'latin1').split('\0').some((kv) => kv.startsWith(prefix));
      } catch {
        return false;
      }
    })
    .map((p) => p.pid);
}

