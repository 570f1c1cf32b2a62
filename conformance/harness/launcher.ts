import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CapturedOutput } from './captured-output';
import { Deadlines, pollUntil, pollWithBackoff } from './deadlines';
import { describeEndpoint, Endpoint, ListenAt, listenAtOf } from './endpoint';
import { pickFreePort } from './free-port';
import { hasProcfs, listProcesses, ProcessInfo, processTree, readProcess, socketInodes } from './procfs';
import { describeLaunch, findServerProcess, listenHolders } from './server-process';
import { RUN_MARKER_ENV, signalGroupAnd, signalTarget, TARGET_MARKER_ENV, targetMembers } from './reaper';
import { expandCommand, onUnixSocket, splitCommand, Target } from './target';
import { runMarker, trackSession, untrackSession } from './watchdog';

/** The target could not be started or never became ready; the message says why, for a person. */
export class LaunchError extends Error {
  override name = 'LaunchError';
}

/** The target was still running but not listening when its allowance ran out (a slow start, or none). */
export class ListenTimeoutError extends LaunchError {}

/** The target exited before listening because its port was taken (worth another port, if the kit chose it). */
class PortTakenError extends LaunchError {}

/** What a server prints when `bind()` or `listen()` finds the port taken: Node's code, or strerror(EADDRINUSE). */
const PORT_TAKEN = /EADDRINUSE|address already in use/i;
/**
 * While a starting target's sockets stay the same, its listener is looked for at most this often. A new
 * socket is not always listened on in the same breath (bind, options, a config read between): right after
 * a change the table is read at every look, then less often as the sockets stay the same.
 */
const TABLE_REREAD_MS = 300;
/** How often a starting target's members outside its tree are looked for (a full scan). */
const SWEEP_EVERY_MS = 1000;
/** The longest pause between two readiness looks (they start at 5 ms and grow). */
const READY_POLL_MAX_MS = 100;
/** Ports tried for one launch when the kit picks them and each is found taken. */
export const PORT_ATTEMPTS = 3;

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running server under test. */
export interface LaunchedTarget {
  readonly target: Target;
  /** where it listens: what clients connect to */
  readonly endpoint: Endpoint;
  readonly host: string;
  /** the TCP port it listens on (0 for a server on a Unix socket: see endpoint) */
  readonly port: number;
  /** pid of the started command (leader of its own session and process group) */
  readonly pid: number;
  /**
   * pid of the server process: the command itself, or the process a launcher (`npm start`, `sh -c`,
   * `cargo run`) started, found once at readiness. Cases signal it and count workers under it.
   */
  readonly serverPid: number;
  /** Processes between the started command and the server, command first (empty when it is the server). */
  readonly launchers: ProcessInfo[];
  /** "npm exec (10) → sh (11) → node (12, the server)"; undefined when the command is the server. */
  readonly launchedThrough?: string;
  readonly marker: string;
  readonly command: string;
  readonly startedAt: number;
  /** ms from spawn until ready */
  readonly readyAfterMs: number;
  stdout(): string;
  stderr(): string;
  /** Exit status of the started command once it has exited. */
  exitStatus(): ExitStatus | undefined;
  /** The server process found at readiness is still running (not exited, not a zombie, not replaced). */
  serverAlive(): boolean;
  /** Pids of the live process tree rooted at the started command. */
  treePids(): number[];
  /** Pids of the live process tree rooted at the server process (launchers excluded). */
  serverPids(): number[];
  /**
   * Live processes of this target, followed cheaply: the tree of the started command, and the trees of
   * processes found at launch outside it (a daemon that double-forked away).
   */
  memberPids(): number[];
  /**
   * Every live process carrying this target's session, group or marker: a scan of every process on the
   * machine and its environment, for leftover sweeps only (after a stop, after SIGTERM).
   */
  sweepPids(): number[];
  /** Kills the whole target (SIGTERM, then SIGKILL until nothing is left). Idempotent. */
  stop(): Promise<void>;
}

const live = new Set<LaunchedTarget>();

/** Targets started and not yet stopped (for teardown hooks). */
export function liveTargets(): LaunchedTarget[] {
  return [...live];
}

/** Stops every target still running. */
export async function stopAllTargets(): Promise<void> {
  await Promise.all([...live].map((t) => t.stop()));
}

const READY_LINE = /listening on \[?([^\]\s]+?)\]?:(\d+)\s*$/m;
const UNIX_READY_LINE = /listening on unix:(.+?)\s*$/m;

/** Whether the ready line `out` holds announces `at` (a port, or a socket path). */
export function announces(out: string, at: Endpoint): boolean {
  if (at.path !== undefined) return UNIX_READY_LINE.exec(out)?.[1] === at.path;
  const m = READY_LINE.exec(out);
  return m !== null && Number(m[2]) === at.port;
}

/** Whether a socket owned by one of `pids` listens where `at` says (a port, any port, or a socket path). */
export function listensOn(pids: number[], at: ListenAt): boolean {
  return listenHolders(pids, at).pids.length > 0;
}

function spawnCommand(command: string, env: NodeJS.ProcessEnv, cwd: string | undefined, out: CapturedOutput, err: CapturedOutput): ChildProcess {
  const argv = splitCommand(command);
  const [file, args] = argv && argv.length > 0 ? [argv[0], argv.slice(1)] : ['/bin/sh', ['-c', command]];
  // detached: own session and process group, so the whole tree can be signalled at once
  return spawn(file, args, { cwd, env, detached: true, stdio: ['ignore', out.fd, err.fd] });
}

function tail(text: string, lines = 8): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/**
 * Starts a target in its own session and process group, with the kit's markers in its environment,
 * and resolves once it listens — detected without opening a connection (a LISTEN socket owned by its
 * process tree, or its ready line where procfs is missing). Rejects with LaunchError, leaving nothing
 * running, if the command fails to start, exits, or does not listen in time.
 */
export async function launchTarget(target: Target, deadlines: Deadlines): Promise<LaunchedTarget> {
  if (target.unix !== undefined) return launchOn(target, { path: target.unix }, deadlines);
  if (onUnixSocket(target)) {
    // {socket}: a fresh path in a directory of its own, removed once the server is stopped.
    const dir = mkdtempSync(join(tmpdir(), 'server-models-'));
    const remove = (): void => rmSync(dir, { recursive: true, force: true });
    return launchOn(target, { path: join(dir, 'server.sock') }, deadlines, remove).catch((err: unknown) => {
      remove(); // a start that failed before it had a server to stop
      throw err;
    });
  }
  if (target.port !== undefined) return launchOn(target, { host: target.host, port: target.port }, deadlines);
  // Another process can take the free port before the target listens on it: then try a fresh one.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchOn(target, { host: target.host, port: await pickFreePort(target.host) }, deadlines);
    } catch (err) {
      if (!(err instanceof PortTakenError)) throw err;
      if (attempt >= PORT_ATTEMPTS) throw new LaunchError(`${err.message}\n(${PORT_ATTEMPTS} free ports tried; the target reported each in use)`);
    }
  }
}

/**
 * Commands this process has seen listen. Once a command has started, a later start that is slow is the
 * machine's load (a launcher like npx among a dozen starts on two cores), not the server: it gets
 * SEEN_READY_FACTOR times the allowance before its case is blocked.
 */
const listenedBefore = new Set<string>();
const SEEN_READY_FACTOR = 3;

/** Starts the target to listen at `endpoint`; `cleanUp` runs once it is stopped (the {socket} directory). */
async function launchOn(target: Target, endpoint: Endpoint, deadlines: Deadlines, cleanUp: () => void = () => undefined): Promise<LaunchedTarget> {
  const command = expandCommand(target, endpoint);
  const port = endpoint.port ?? 0;
  const at = listenAtOf(endpoint);
  const where = describeEndpoint(endpoint);
  const readyMs = deadlines.ready() * (listenedBefore.has(target.cmd) ? SEEN_READY_FACTOR : 1);
  const marker = randomBytes(8).toString('hex');
  const env = { ...process.env, ...target.env, [RUN_MARKER_ENV]: runMarker, [TARGET_MARKER_ENV]: marker };
  const startedAt = Date.now();
  let child: ChildProcess;
  const stdout = new CapturedOutput('out');
  const stderr = new CapturedOutput('err');
  try {
    child = spawnCommand(command, env, target.cwd, stdout, stderr);
  } catch (err) {
    stdout.close();
    stderr.close();
    throw new LaunchError(`cannot start "${command}": ${(err as Error).message}`);
  }
  let exit: ExitStatus | undefined;
  let spawnError: Error | undefined;
  child.on('error', (err) => (spawnError = err));
  child.on('exit', (code, signal) => (exit = { code, signal }));
  const pid = child.pid ?? -1;
  if (pid > 0) trackSession(pid);
  // Every member of the target starts after the command did: older processes need no look.
  const bornSince = (pid > 0 && hasProcfs() ? readProcess(pid)?.startTicks : undefined) ?? 0;

  let stopping: Promise<void> | undefined;
  let serverStartTicks: number | undefined;
  const procfs = hasProcfs();
  const handle: LaunchedTarget = {
    target, endpoint, host: target.host, port, pid, serverPid: pid, launchers: [], marker, command, startedAt, readyAfterMs: 0,
    stdout: () => stdout.text(),
    stderr: () => stderr.text(),
    exitStatus: () => exit,
    serverAlive: () => {
      if (handle.serverPid === pid && exit !== undefined) return false;
      const now = readProcess(handle.serverPid);
      // Same pid, same start time: the very process found at readiness, not a newcomer with its pid.
      return now !== undefined && now.state !== 'Z' && (serverStartTicks === undefined || now.startTicks === serverStartTicks);
    },
    treePids: () => (procfs ? processTree(pid).filter((p) => p.state !== 'Z').map((p) => p.pid) : [pid]),
    serverPids: () => (procfs ? processTree(handle.serverPid).filter((p) => p.state !== 'Z').map((p) => p.pid) : [handle.serverPid]),
    memberPids: () => {
      if (!procfs) return [];
      const pids = new Set<number>();
      for (const root of [pid, ...adopted]) for (const p of processTree(root)) if (p.state !== 'Z') pids.add(p.pid);
      return [...pids];
    },
    sweepPids: () => (procfs ? targetMembers(pid, TARGET_MARKER_ENV, marker, listProcesses(), bornSince) : []),
    stop: () => (stopping ??= stopTarget()),
  };
  /** Members found at launch outside the started command's tree: followed from then on by their own trees. */
  let adopted: number[] = [];
  live.add(handle);

  async function stopTarget(): Promise<void> {
    if (pid <= 0) {
      cleanUp();
      return void live.delete(handle);
    }
    // The followed members first (cheap to watch); then one sweep of the machine for anything that
    // left the tree meanwhile (an orphaned worker), signalled until it is gone.
    const followedGone = (): boolean => (procfs ? handle.memberPids().length === 0 : exit !== undefined);
    const swept = (): boolean => (procfs ? handle.sweepPids().length === 0 : exit !== undefined);
    if (!followedGone()) {
      signalGroupAnd(pid, handle.memberPids(), 'SIGTERM');
      if (!(await pollUntil(followedGone, deadlines.slack() * 2, 20))) signalGroupAnd(pid, handle.memberPids(), 'SIGKILL');
    }
    if (!swept()) {
      signalTarget(pid, TARGET_MARKER_ENV, marker, 'SIGTERM', bornSince);
      if (!(await pollUntil(swept, deadlines.slack() * 2, 20))) {
        // SIGKILL repeatedly, re-scanning: children forked meanwhile are caught by the next round
        await pollUntil(() => {
          signalTarget(pid, TARGET_MARKER_ENV, marker, 'SIGKILL', bornSince);
          return swept();
        }, deadlines.slack() * 5, 50);
      }
    }
    await pollUntil(() => exit !== undefined || spawnError !== undefined, deadlines.slack());
    stdout.close();
    stderr.close();
    untrackSession(pid);
    cleanUp();
    live.delete(handle);
  }

  // The tree at every poll; once a second every member, found by session and marker too (a daemon that
  // double-forked into its own session): that scan reads processes' environments, too dear for every
  // poll on a busy machine.
  let sweptAt = Date.now();
  // The socket table is read when the tree's sockets change and, while they stay the same, ever less
  // often (at most every TABLE_REREAD_MS): a socket created a moment ago may begin to listen any moment.
  let socketsSeen = '';
  let socketsChangedAt = startedAt;
  let tableReadAt = 0;
  const treeListens = (): boolean => {
    const pids = handle.treePids();
    const inodes = new Map(pids.map((p) => [p, socketInodes(p)]));
    const sockets = [...inodes.values()].map((list) => list.join(',')).join(';');
    const now = Date.now();
    if (sockets !== socketsSeen) {
      socketsSeen = sockets;
      socketsChangedAt = now;
    } else if (now - tableReadAt < Math.min(TABLE_REREAD_MS, (now - socketsChangedAt) / 4)) return false;
    tableReadAt = now;
    return listenHolders(pids, at, inodes).pids.length > 0;
  };
  const sweepListens = (): boolean => {
    if (Date.now() - sweptAt < SWEEP_EVERY_MS) return false;
    sweptAt = Date.now();
    return listensOn(handle.sweepPids(), at);
  };
  const listening = (): boolean => procfs && (treeListens() || sweepListens());
  // The command exiting is only fatal when nothing it started lives on (a daemonizing server exits 0).
  const gaveUp = (): boolean => spawnError !== undefined || (exit !== undefined && (exit.code !== 0 || handle.sweepPids().length === 0));
  const readyLineSeen = (): boolean => announces(stdout.text(), endpoint);
  const ready = (): boolean => {
    if (!procfs) return readyLineSeen();
    return listening() && (!target.readyLine || readyLineSeen());
  };
  // Latched: a target seen listening is ready even if it dies before a second look (its cases will tell);
  // looking again could find it gone before its exit is reported, and call that a timeout.
  let seenReady = false;
  const ok = await pollWithBackoff(() => (seenReady = ready()) || gaveUp(), readyMs, 5, READY_POLL_MAX_MS);
  if (!seenReady) {
    const timedOut = !ok && !gaveUp();
    await handle.stop();
    if (spawnError) throw new LaunchError(`cannot start "${command}": ${spawnError.message}`);
    if (exit && !timedOut) {
      const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
      const errText = stderr.text();
      const err = tail(errText);
      const Failure = PORT_TAKEN.test(errText) ? PortTakenError : LaunchError;
      throw new Failure(`target "${command}" ${how} before listening on ${endpoint.path !== undefined ? where : `port ${port}`}${err ? `; its stderr ends with:\n${err}` : ''}`);
    }
    const what = procfs ? `listen on ${where}` : `print "listening on ${endpoint.path !== undefined ? `unix:${where}` : where}"`;
    throw new ListenTimeoutError(`target "${command}" did not ${what} within ${readyMs} ms`);
  }
  (handle as { readyAfterMs: number }).readyAfterMs = Date.now() - startedAt;
  listenedBefore.add(target.cmd);
  if (procfs) {
    // The one scan of the machine after launch: members that left the tree are followed from now on.
    const members = handle.sweepPids();
    const tree = new Set(handle.treePids());
    adopted = members.filter((m) => !tree.has(m));
    const found = findServerProcess(pid, listenHolders(members, at).pids);
    Object.assign(handle, { serverPid: found.pid, launchers: found.launchers, launchedThrough: describeLaunch(found) });
    serverStartTicks = readProcess(found.pid)?.startTicks;
  }
  return handle;
}
