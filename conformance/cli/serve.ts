import { spawn } from 'node:child_process';
import { isModel, REFERENCE_MODELS } from '../harness/models';
import { ensureCServers, Language, referenceServerPath } from '../reference';
import { existsSync } from 'node:fs';
import { HELP_FLAG, helpAsked, parseFlags, stringFlags, UsageError } from '../flags';

export const SERVE_HELP = `Usage: server-models serve <model> [--lang ts|c] [options]

Runs a reference server in the foreground until Ctrl-C (SIGINT) or SIGTERM, which it drains.
Models: ${REFERENCE_MODELS.join(' | ')}

  --lang <ts|c>              TypeScript (default) or C reference server
  --host <host>              address to listen on (default 127.0.0.1)
  --port <port>              TCP port, 0 = any free port (default 3000)
  --unix <path>              listen on a Unix-domain socket at <path> instead (not with --host, --port)
  --delay-ms <ms>            work delay per message (default 2000)
  --workers <n>              pool size for prefork and thread-pool (default 5)
  --max-message-bytes <n>    close a connection that buffers more without ETX (default 65536)
  --grace-ms <ms>            how long SIGTERM waits for sessions to finish (default 4 work delays, at least 5000)
  -h, --help                 this help

Then talk to it: server-models client --port 3000 --clients 5 --messages 3 (or --unix <path>)`;

const PASSED_THROUGH = ['host', 'port', 'unix', 'delay-ms', 'workers', 'max-message-bytes', 'grace-ms'] as const;

/** `server-models serve`: runs until the server exits; returns its exit code. */
export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(
    args,
    { ...stringFlags('lang', ...PASSED_THROUGH), ...HELP_FLAG },
    true,
  );
  if (helpAsked(values, SERVE_HELP)) return 0;
  const [model, ...extra] = positionals;
  if (model === undefined) throw new UsageError(`serve needs a model: one of ${REFERENCE_MODELS.join(', ')}`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  if (!isModel(model) || !REFERENCE_MODELS.includes(model)) throw new UsageError(`no reference server for "${model}": one of ${REFERENCE_MODELS.join(', ')}`);
  const lang = (values.lang ?? 'ts') as Language;
  if (lang !== 'ts' && lang !== 'c') throw new UsageError(`--lang must be ts or c, got "${String(values.lang)}"`);
  const unbuilt = lang === 'c' ? ensureCServers() : undefined;
  if (unbuilt !== undefined) throw new UsageError(`the C ${model} server: ${unbuilt}`);
  const file = referenceServerPath(model, lang);
  if (!existsSync(file)) throw new UsageError(`${file} is missing (run: npm run build)`);
  const argv = PASSED_THROUGH.flatMap((f) => (values[f] !== undefined ? [`--${f}`, String(values[f])] : []));
  const [command, commandArgs] = lang === 'ts' ? [process.execPath, [file, ...argv]] : [file, argv];
  const child = spawn(command, commandArgs, { stdio: 'inherit' });
  // A signal sent to us alone (a process manager, kill) is passed on. Ctrl-C reaches the server from
  // the terminal too; the servers drain once, whatever the number of signals.
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  process.removeAllListeners('SIGINT').removeAllListeners('SIGTERM');
  process.on('SIGINT', forward('SIGINT')).on('SIGTERM', forward('SIGTERM'));
  return new Promise((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`server-models: cannot start ${file}: ${err.message}\n`);
      resolve(2);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1)));
  });
}
