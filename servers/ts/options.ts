// Command-line options shared by every TypeScript reference server.
// Bad input ends the process with one line on stderr and exit code 2 (never a stack trace).

export interface ServerOptions {
  host: string;
  port: number;
  /** --unix: listen on this Unix-domain stream socket path instead of TCP host:port. */
  unix?: string;
  delayMs: number;
  workers: number;
  maxMessageBytes: number;
  graceMs: number;
}

export interface ModelDefaults {
  /** Name shown in --help and in error lines. */
  program: string;
  /** Default for --workers; null for models that have no pool (they accept and ignore the flag). */
  workers: number | null;
}

export class OptionsError extends Error {}

interface IntegerFlag {
  key: Exclude<keyof ServerOptions, 'host' | 'unix'>;
  min: number;
  max: number;
}

const INTEGER_FLAGS: Record<string, IntegerFlag> = {
  '--port': { key: 'port', min: 0, max: 65535 },
  '--delay-ms': { key: 'delayMs', min: 0, max: 86_400_000 },
  '--workers': { key: 'workers', min: 1, max: 1024 },
  '--max-message-bytes': { key: 'maxMessageBytes', min: 1, max: 1 << 30 },
  '--grace-ms': { key: 'graceMs', min: 0, max: 86_400_000 },
};

export function usage(defaults: ModelDefaults): string {
  return [
    `usage: ${defaults.program} [options]`,
    '  --host HOST               address to listen on (default 127.0.0.1)',
    '  --port N                  TCP port, 0 = any free port (default 3000)',
    '  --unix PATH               listen on a Unix-domain stream socket at PATH instead (not with --host, --port)',
    '  --delay-ms N              work delay per message in ms (default 2000)',
    defaults.workers === null
      ? '  --workers N               accepted for uniformity, ignored by this model'
      : `  --workers N               number of workers (default ${defaults.workers})`,
    '  --max-message-bytes N     close a stream that buffers more without ETX (default 65536)',
    '  --grace-ms N              SIGTERM drain grace period in ms (default 4 work delays, at least 5000)',
    '  --help                    show this help',
  ].join('\n');
}

function parseInteger(flag: string, text: string, spec: IntegerFlag): number {
  if (!/^\d+$/.test(text)) throw new OptionsError(`${flag} expects a whole number, got '${text}'`);
  const value = Number(text);
  if (value < spec.min || value > spec.max) {
    throw new OptionsError(`${flag} must be between ${spec.min} and ${spec.max}, got ${text}`);
  }
  return value;
}

/** Parses argv (without node and script); throws OptionsError on bad input. Returns null for --help. */
export function parseOptions(argv: readonly string[], defaults: ModelDefaults): ServerOptions | null {
  const options: ServerOptions = {
    host: '127.0.0.1',
    port: 3000,
    delayMs: 2000,
    workers: defaults.workers ?? 1,
    maxMessageBytes: 65536,
    graceMs: -1, // not given: see defaultGraceMs
  };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return null;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    if (flag !== '--host' && flag !== '--unix' && !(flag in INTEGER_FLAGS)) throw new OptionsError(`unknown option '${arg}'`);
    given.add(flag);
    let value: string;
    if (eq > 0 && flag !== arg) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) throw new OptionsError(`${flag} needs a value`);
      value = argv[++i];
    }
    if (flag === '--host') {
      if (value === '') throw new OptionsError('--host needs a non-empty value');
      options.host = value;
    } else if (flag === '--unix') {
      if (value === '') throw new OptionsError('--unix needs a non-empty path');
      options.unix = value;
    } else {
      const spec = INTEGER_FLAGS[flag];
      options[spec.key] = parseInteger(flag, value, spec);
    }
  }
  // A server listens on one address: a path, or a TCP host and port.
  const tcp = ['--host', '--port'].filter((f) => given.has(f));
  if (given.has('--unix') && tcp.length > 0) throw new OptionsError(`--unix cannot be combined with ${tcp.join(' or ')}`);
  if (options.graceMs < 0) options.graceMs = defaultGraceMs(options.delayMs);
  return options;
}

/**
 * The SIGTERM drain grace when none is given: long enough to finish the work a session has queued
 * (a few messages, worked one after another), so 4 work delays, and never under 5 s.
 */
export function defaultGraceMs(delayMs: number): number {
  return Math.max(5000, 4 * delayMs);
}

/** parseOptions for a process entry point: prints help or the error line and exits as documented. */
export function optionsFromCommandLine(defaults: ModelDefaults): ServerOptions {
  try {
    const options = parseOptions(process.argv.slice(2), defaults);
    if (options === null) {
      process.stdout.write(usage(defaults) + '\n');
      process.exit(0);
    }
    return options;
  } catch (err) {
    if (!(err instanceof OptionsError)) throw err;
    process.stderr.write(`${defaults.program}: ${err.message} (see --help)\n`);
    process.exit(2);
  }
}

/** The flags a child process needs to serve sessions exactly like its parent would. */
export function sessionFlags(options: ServerOptions): string[] {
  return [
    '--delay-ms', String(options.delayMs),
    '--max-message-bytes', String(options.maxMessageBytes),
    '--grace-ms', String(options.graceMs),
  ];
}
