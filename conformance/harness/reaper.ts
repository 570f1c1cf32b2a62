import { listProcesses, pidsWithEnv, ProcessInfo } from './procfs';

/** Environment variable that marks every process a kit run starts. */
export const RUN_MARKER_ENV = 'SERVER_MODELS_RUN';
/** Environment variable that marks every process of one launched target. */
export const TARGET_MARKER_ENV = 'SERVER_MODELS_TARGET';

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone, or not ours to signal
  }
}

/**
 * Live (non-zombie) processes that belong to a target: its session, its group, or carrying its marker.
 * `bornSince`: the target's start (clock ticks since boot); only processes started since then can
 * carry its marker, so older ones' environments are not read (most of the machine's).
 */
export function targetMembers(sid: number, markerName: string, markerValue: string, snapshot: ProcessInfo[] = listProcesses(), bornSince = 0): number[] {
  const members = new Set<number>();
  for (const p of snapshot) {
    if (p.state === 'Z' || p.pid === process.pid) continue;
    if (p.session === sid || p.pgrp === sid) members.add(p.pid);
  }
  for (const pid of pidsWithEnv(markerName, markerValue, snapshot.filter((p) => p.startTicks >= bornSince))) {
    const p = snapshot.find((q) => q.pid === pid);
    if (p && p.state !== 'Z') members.add(pid);
  }
  return [...members];
}

/** Signals a process group, then each of `pids` (members that may have left the group). */
export function signalGroupAnd(pgid: number, pids: number[], sig: NodeJS.Signals): void {
  signal(-pgid, sig);
  for (const pid of pids) signal(pid, sig);
}

/** Signals a whole target: its process group, then every member found by session or marker. */
export function signalTarget(sid: number, markerName: string, markerValue: string, sig: NodeJS.Signals, bornSince = 0): number[] {
  signal(-sid, sig); // first: the scan below takes a while, and a group member forked meanwhile is caught
  const members = targetMembers(sid, markerName, markerValue, listProcesses(), bornSince);
  for (const pid of members) signal(pid, sig);
  return members;
}

/** Synchronous last-resort kill of everything a run started (used by the watchdog and at exit). */
export function killMarkedRun(runMarker: string, sessions: number[]): void {
  for (let round = 0; round < 20; round++) {
    const snapshot = listProcesses();
    const victims = new Set<number>(pidsWithEnv(RUN_MARKER_ENV, runMarker, snapshot));
    for (const p of snapshot) if (sessions.includes(p.session) && p.pid !== process.pid) victims.add(p.pid);
    const alive = [...victims].filter((pid) => snapshot.find((p) => p.pid === pid)?.state !== 'Z');
    if (alive.length === 0) return;
    for (const sid of sessions) signal(-sid, 'SIGKILL');
    for (const pid of alive) signal(pid, 'SIGKILL');
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); // synchronous pause between kill rounds
  }
}
