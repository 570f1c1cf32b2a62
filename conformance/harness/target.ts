import { Endpoint } from './endpoint';
import { CrowdWeight, isModel, Limit, limitOf, ModelName, MODELS } from './models';

/** What a user declares about the server under test. */
export interface TargetSpec {
  /** Label in reports, e.g. "ts/prefork". */
  name: string;
  /**
   * Command line; `{port}`, `{delayMs}` and `{workers}` are substituted, and `{socket}` by the path of a
   * Unix-domain socket in a private temporary directory (not with `{port}`). Absent for a server that
   * is already running at `host`:`port` or at `unix` (the kit did not start it and never stops it).
   */
  cmd?: string;
  model: ModelName;
  /** Pool size for pool models (default 5). */
  workers?: number;
  /** The server's per-message work delay in ms (default 2000). */
  delayMs?: number;
  /** Overrides the limit the model implies. */
  limit?: Limit;
  /** Address to connect to (default 127.0.0.1). */
  host?: string;
  /** Fixed port, for a command without `{port}` (default 3000 then). */
  port?: number;
  /** Fixed Unix-domain socket path the server listens on, for a command without `{socket}` (not with host or port). */
  unix?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Also wait for a `listening on host:port` (or `listening on unix:PATH`) line on stdout before the target counts as ready. */
  readyLine?: boolean;
  /**
   * For a server already running (no `cmd`) on this machine: its process, whose tree the /proc probes
   * then watch (a container's process as the host sees it).
   */
  pid?: number;
}

/** A validated target with every default filled in. */
export interface Target extends Required<Omit<TargetSpec, 'port' | 'unix' | 'cwd' | 'env' | 'workers' | 'pid'>> {
  workers?: number;
  /** undefined when the kit picks a free port for `{port}`, and for a server on a Unix socket */
  port?: number;
  /** the fixed socket path of a server on a Unix socket (undefined with `{socket}`: the kit picks one per start) */
  unix?: string;
  cwd?: string;
  env: Record<string, string>;
  /**
   * What a session's own process costs, where the model starts one per connection: measured by the
   * runner before the cases (see weighSession); undefined counts as heavy.
   */
  crowdWeight?: CrowdWeight;
  /** A server already running, which the kit did not start (cmd is then ''): see {@link isRunning}. */
  running: boolean;
  /** The running server's process, when given. */
  pid?: number;
}

/** The target is a server already running, not a command the kit starts. */
export function isRunning(target: Target): boolean {
  return target.running;
}

export const DEFAULT_DELAY_MS = 2000;
export const SOCKET_PLACEHOLDER = '{socket}';
/** The longest socket path Linux binds: sun_path holds 108 bytes with its NUL. */
export const MAX_SOCKET_PATH = 107;
export const DEFAULT_FIXED_PORT = 3000;

/** A target declaration that cannot be used; the message names the bad field. */
export class TargetError extends Error {
  override name = 'TargetError';
}

function positiveInteger(value: unknown, field: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw new TargetError(`${field} must be ${allowZero ? 'a non-negative' : 'a positive'} integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validates a spec and fills in defaults. Throws TargetError naming the bad field. */
export function resolveTarget(spec: TargetSpec): Target {
  const running = spec.cmd === undefined;
  if (running && spec.port === undefined && spec.unix === undefined) throw new TargetError('cmd must be given (the command that starts the server), or the port of a server already running');
  if (!running && (typeof spec.cmd !== 'string' || spec.cmd.trim() === '')) throw new TargetError('cmd must be a non-empty command line');
  if (!running && spec.pid !== undefined) throw new TargetError('pid is for a server already running: give it without cmd');
  const pid = spec.pid === undefined ? undefined : positiveInteger(spec.pid, 'pid');
  const cmd = spec.cmd ?? '';
  if (typeof spec.model !== 'string' || !isModel(spec.model)) {
    throw new TargetError(`model must be one of ${MODELS.join(', ')}, got ${JSON.stringify(spec.model)}`);
  }
  const workers = spec.workers === undefined ? undefined : positiveInteger(spec.workers, 'workers');
  const delayMs = spec.delayMs === undefined ? DEFAULT_DELAY_MS : positiveInteger(spec.delayMs, 'delayMs', true);
  const usesPortPlaceholder = cmd.includes('{port}');
  const unix = unixOf(spec, cmd, usesPortPlaceholder);
  let port: number | undefined;
  if (unix !== undefined || cmd.includes(SOCKET_PLACEHOLDER)) {
    port = undefined; // a Unix socket: no port at all
  } else if (spec.port !== undefined) {
    port = positiveInteger(spec.port, 'port');
    if (port > 65535) throw new TargetError(`port must be at most 65535, got ${port}`);
  } else if (!usesPortPlaceholder) {
    port = DEFAULT_FIXED_PORT;
  }
  let limit: Limit = spec.limit ?? limitOf(spec.model, workers);
  if (limit !== 'unbounded') limit = positiveInteger(limit, 'limit');
  const host = spec.host ?? '127.0.0.1';
  return {
    name: spec.name || cmd || (unix ?? `${host}:${port}`),
    cmd,
    model: spec.model,
    workers,
    delayMs,
    limit,
    host,
    port,
    ...(unix !== undefined ? { unix } : {}),
    cwd: spec.cwd,
    env: spec.env ?? {},
    readyLine: spec.readyLine ?? false,
    running,
    ...(pid !== undefined ? { pid } : {}),
  };
}

/**
 * The fixed socket path of a spec, validated; undefined for TCP or `{socket}`. A server listens on one
 * address: `{socket}` or `unix` exclude `{port}`, a port and a host.
 */
function unixOf(spec: TargetSpec, cmd: string, usesPortPlaceholder: boolean): string | undefined {
  const usesSocket = cmd.includes(SOCKET_PLACEHOLDER);
  if (usesSocket && usesPortPlaceholder) throw new TargetError('cmd has both {socket} and {port}: a server listens on one of them');
  if (spec.unix === undefined) {
    if (usesSocket && (spec.port !== undefined || spec.host !== undefined)) throw new TargetError(`${spec.port !== undefined ? 'port' : 'host'} cannot go with {socket}: the server listens on a Unix socket`);
    return undefined;
  }
  if (typeof spec.unix !== 'string' || spec.unix === '') throw new TargetError(`unix must be a socket path, got ${JSON.stringify(spec.unix)}`);
  if (Buffer.byteLength(spec.unix) > MAX_SOCKET_PATH) throw new TargetError(`unix must be at most ${MAX_SOCKET_PATH} bytes (a socket path), got ${Buffer.byteLength(spec.unix)}`);
  if (usesSocket || usesPortPlaceholder) throw new TargetError(`unix cannot go with ${usesSocket ? SOCKET_PLACEHOLDER : '{port}'} in cmd: give one address`);
  if (spec.port !== undefined || spec.host !== undefined) throw new TargetError(`unix cannot go with ${spec.port !== undefined ? 'port' : 'host'}: give one address`);
  return spec.unix;
}

/** The target's server listens on a Unix-domain socket: a fixed path, or `{socket}`. */
export function onUnixSocket(target: Target): boolean {
  return target.unix !== undefined || target.cmd.includes(SOCKET_PLACEHOLDER);
}

/** The target listens where the kit cannot choose (a fixed port or socket path): one server at a time. */
export function hasFixedAddress(target: Target): boolean {
  return target.port !== undefined || target.unix !== undefined;
}

/** Substitutes the placeholders of the command line: `{port}` or `{socket}` from where the server is to listen. */
export function expandCommand(target: Target, at: Endpoint): string {
  return target.cmd
    .replace(/\{port\}/g, String(at.port ?? ''))
    .replace(/\{socket\}/g, at.path ?? '')
    .replace(/\{delayMs\}/g, String(target.delayMs))
    .replace(/\{workers\}/g, String(target.workers ?? (target.limit === 'unbounded' ? 1 : target.limit)));
}

/**
 * Splits a command line into argv like a POSIX shell would for simple commands (quotes and
 * backslashes). Returns undefined when it needs a real shell (pipes, redirections, variables, …).
 */
export function splitCommand(line: string): string[] | undefined {
  if (/[|&;<>()$`*?~]/.test(line.replace(/'[^']*'/g, '').replace(/"[^"]*"/g, ''))) return undefined;
  const argv: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) current += line[++i];
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      current += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) argv.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) throw new TargetError(`cmd has an unterminated ${quote} quote`);
  if (inWord) argv.push(current);
  return argv;
}
