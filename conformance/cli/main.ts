import { stopAllTargets, LaunchError } from '../harness/launcher';
import { benchCommand } from './bench';
import { checkCommand } from './check';
import { clientCommand } from './client';
import { listCommand } from './list';
import { matrixCommand } from './matrix';
import { mergeReportsCommand } from './merge-reports';
import { serveCommand } from './serve';
import { UsageError } from '../flags';

const HELP = `Usage: server-models <command> [options]

Commands:
  check          run the conformance cases against a server (or every server of a manifest)
  matrix         check every reference server and print implementation × case area
  merge-reports  join the JSON reports of a run's shards (--shard I/N) into one report
  serve          run a reference server in the foreground
  client         N concurrent clients × M messages against host:port, with a live timeline
  list           the models and the cases, with ids, levels and what each checks
  bench          throughput and latency under closed-loop load; --all compares every reference server
  help           this help

Run "server-models <command> --help" for the options of a command.`;

/** Each command, by the name it is called by: it takes the arguments after its name and returns the exit code. */
const COMMANDS = new Map<string, (args: string[]) => Promise<number>>([
  ['check', checkCommand],
  ['matrix', matrixCommand],
  ['merge-reports', mergeReportsCommand],
  ['serve', serveCommand],
  ['client', clientCommand],
  ['list', listCommand],
  ['bench', benchCommand],
]);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const run = command === undefined ? undefined : COMMANDS.get(command);
  if (run) return run(rest);
  if (command === undefined || ['help', '--help', '-h'].includes(command)) {
    process.stdout.write(`${HELP}\n`);
    return command === undefined ? 2 : 0;
  }
  throw new UsageError(`unknown command "${command}" (try: server-models --help)`);
}

let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    process.stderr.write(`\nserver-models: interrupted; stopping servers\n`);
    void stopAllTargets().finally(() => process.exit(130));
  });
}

main(process.argv.slice(2)).then(
  async (code) => {
    await stopAllTargets();
    process.exitCode = code;
  },
  async (err: unknown) => {
    await stopAllTargets();
    if (err instanceof UsageError) {
      process.stderr.write(`server-models: ${err.message}\n`);
    } else if (err instanceof LaunchError) {
      process.stderr.write(`server-models: target error: ${err.message}\n`);
    } else {
      process.stderr.write(`server-models: internal error: ${(err as Error).stack ?? String(err)}\n`);
    }
    process.exitCode = 2;
  },
);
