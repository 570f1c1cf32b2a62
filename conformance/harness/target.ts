import { CrowdWeight, isModel, Limit, limitOf, ModelName, MODELS } from './models';

/** What a user declares about the server under test. */
export interface TargetSpec {
  /** Label in reports, e.g. "ts/prefork". */
  name: string;
  /**
   * Command line; `{port}`, `{delayMs}` and `{workers}` are substituted. Absent for a server that is
   * already running at `host`:`port` (the kit did not start it and never stops it).
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
  cwd?: string;
  env?: Record<string, string>;
  /** Also wait for a `listening on host:port` line on stdout before the target counts as ready. */
  readyLine?: boolean;
  /**
   * For a server already running (no `cmd`) on this machine: its process, whose tree the /proc probes
   * then watch (a container's process as the host sees it).
   */
  pid?: number;
}

/** A validated target with every default filled in. */
export interface Target extends Required<Omit<TargetSpec, 'port' | 'cwd' | 'env' | 'workers' | 'pid'>> {
  workers?: number;
  /** undefined when the kit picks a free port for `{port}` */
  port?: number;
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
  if (running && spec.port === undefined) throw new TargetError('cmd must be given (the command that starts the server), or the port of a server already running');
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
  let port: number | undefined;
  if (spec.port !== undefined) {
    port = positiveInteger(spec.port, 'port');
    if (port > 65535) throw new TargetError(`port must be at most 65535, got ${port}`);
  } else if (!usesPortPlaceholder) {
    port = DEFAULT_FIXED_PORT;
  }
  let limit: Limit = spec.limit ?? limitOf(spec.model, workers);
  if (limit !== 'unbounded') limit = positiveInteger(limit, 'limit');
  const host = spec.host ?? '127.0.0.1';
  return {
    name: spec.name || cmd || `${host}:${port}`,
    cmd,
    model: spec.model,
    workers,
    delayMs,
    limit,
    host,
    port,
    cwd: spec.cwd,
    env: spec.env ?? {},
    readyLine: spec.readyLine ?? false,
    running,
    ...(pid !== undefined ? { pid } : {}),
  };
}

/** Substitutes the placeholders of the command line. */
export function expandCommand(target: Target, port: number): string {
  return target.cmd
    .replace(/\{port\}/g, String(port))
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
