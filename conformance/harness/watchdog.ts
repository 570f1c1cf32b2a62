import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { compiledModule } from './paths';
import { killMarkedRun } from './reaper';

/** The marker every process started by this kit process carries in its environment. */
export const runMarker = `${process.pid}-${randomBytes(6).toString('hex')}`;

let watchdog: ChildProcess | undefined;
const trackedSessions = new Set<number>();

/** Pids whose death means the kit is gone: this process, and Jest's main process when run in a worker. */
function watchedPids(): number[] {
  const pids = [process.pid];
  if (process.env.JEST_WORKER_ID !== undefined) pids.push(process.ppid);
  return pids;
}

function startWatchdog(): ChildProcess | undefined {
  const script = compiledModule('conformance/harness/watchdog-process');
  if (!existsSync(script)) return undefined; // unbuilt checkout: in-process teardown still applies
  // detached: its own session, so a Ctrl-C to the terminal's process group does not reach it
  const child = spawn(process.execPath, [script, runMarker, ...watchedPids().map(String)], {
    detached: true,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  return child;
}

/** Tells the watchdog about a target's session, starting the watchdog on first use. */
export function trackSession(sid: number): void {
  watchdog ??= startWatchdog();
  trackedSessions.add(sid);
  watchdog?.stdin?.write(`track ${sid}\n`);
}

export function untrackSession(sid: number): void {
  trackedSessions.delete(sid);
  watchdog?.stdin?.write(`untrack ${sid}\n`);
}

// An exiting kit process kills what is still tracked, synchronously; the watchdog covers the rest.
process.on('exit', () => {
  if (trackedSessions.size > 0) killMarkedRun(runMarker, [...trackedSessions]);
});
