import { selectCases } from '../cases/selection';
import { CaseResult, limitText } from '../cases/types';
import { resolveTarget } from '../harness/target';
import { ensureCServers, referenceTargets } from '../reference';
import { exitCodeOf } from '../reports/verdict';
import { formatResult, paint, useColor } from '../reports/console';
import { ProgressLine } from './progress';
import { defaultJobs, runTargets } from './run-targets';
import { HELP_FLAG, helpAsked, intFlag, parseFlags, stringFlags, UsageError } from '../flags';
import { writeReports } from './write-reports';
import { multiplierFlag } from './shared-flags';
import { describeShare, SHARD_FLAGS, shardHelp, shareFromFlags } from './shard-flags';

export const MATRIX_HELP = `Usage: server-models matrix [--delay-ms D] [--lang ts|c] [--only GLOB] [--skip GLOB]
                            [--timeout-multiplier X] [--jobs N] [--json FILE] [--junit FILE] [--html FILE]
                            [--shard I/N [--durations FILE]]

Checks every built reference server and prints a matrix of implementation × case area; each cell is
passed/applicable cases, with ✗ for failed MUST cases, ? for blocked cases, ! for kit errors and ~ for
SHOULD cases missed. --jobs N: cases run at the same time per server (default: 2 × cores + 2, at most 16).
Default delay: 200 ms. Exit status 1 if any reference server fails a MUST case.

${shardHelp('server')}`;

function areaOf(id: string): string {
  return id.split('.')[0];
}

/** One cell: passed / applicable, with the failures (✗), blocked cases (?) and kit errors (!) marked. */
function cell(results: CaseResult[], color: boolean): string {
  const applicable = results.filter((r) => r.outcome !== 'skip' && r.outcome !== 'informational');
  const passed = applicable.filter((r) => r.outcome === 'pass').length;
  const failed = applicable.filter((r) => r.outcome === 'fail').length;
  const blocked = applicable.filter((r) => r.outcome === 'blocked').length;
  const errors = applicable.filter((r) => r.outcome === 'error').length;
  const marks = [failed ? `${failed}✗` : '', blocked ? `${blocked}?` : '', errors ? `${errors}!` : ''].filter(Boolean).join(' ');
  const text = `${passed}/${applicable.length}${marks ? ` ${marks}` : applicable.length > passed ? ' ~' : ''}`;
  return paint(text.padEnd(12), failed ? '31' : applicable.length > passed ? '33' : '32', color);
}

/** `server-models matrix` (what `npm start` runs): returns the exit code. */
export async function matrixCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    ...stringFlags('delay-ms', 'lang', 'json', 'junit', 'html', 'timeout-multiplier', 'jobs'),
    ...SHARD_FLAGS,
    only: { type: 'string', multiple: true },
    skip: { type: 'string', multiple: true },
    ...HELP_FLAG,
  });
  if (helpAsked(values, MATRIX_HELP)) return 0;
  if (values.lang !== undefined && values.lang !== 'ts' && values.lang !== 'c') throw new UsageError(`--lang must be ts or c, got "${values.lang}"`);
  const delayMs = intFlag(values['delay-ms'], 'delay-ms') ?? 200;
  const multiplier = multiplierFlag(values['timeout-multiplier']);
  const cases = selectCases(values.only, values.skip);
  const color = useColor();
  const progress = new ProgressLine();
  // C servers are built on first use where the package has no build of its own (an installed package).
  const unbuilt = values.lang === 'ts' ? undefined : ensureCServers();
  const specs = referenceTargets(delayMs).filter((s) => values.lang === undefined || s.name.startsWith(`${values.lang}/`));
  // Shards are cut from every server of the languages asked for, built here or not: the same on every machine.
  const share = shareFromFlags(specs.map((s) => resolveTarget(s)), cases, values);
  const shareLine = describeShare(share, 'server');
  if (shareLine !== undefined) progress.print(`server-models matrix: ${shareLine}`);
  const available = new Set(specs.filter((s) => s.available).map((s) => s.name));
  const missing = specs.filter((s) => !s.available && share.targets.some((t) => t.name === s.name));
  const report = await runTargets(
    share.targets.filter((t) => available.has(t.name)),
    {
      cases,
      multiplier,
      jobs: intFlag(values.jobs, 'jobs', 1) ?? defaultJobs(),
      onTargetStart: (t) => progress.print(`── ${t.name}`),
      onCaseStart: (t, c, index, total) => progress.show(`   ${index}/${total} ${c.id} …`),
      onResult: (t, r) => {
        if (!['pass', 'skip', 'informational'].includes(r.outcome)) progress.print(formatResult(r, color));
      },
      onTargetError: (t, message) => progress.print(`   target error: ${message}`),
    },
  );
  if (share.shard) report.shard = share.shard;

  const areas = [...new Set(cases.map((c) => areaOf(c.id)))];
  const header = `${'implementation'.padEnd(24)}${areas.map((a) => a.padEnd(12)).join('')}measured limit`;
  process.stdout.write(`\n${header}\n${'─'.repeat(header.length)}\n`);
  for (const impl of report.implementations) {
    if (impl.error !== undefined) {
      process.stdout.write(`${impl.name.padEnd(24)}did not start: ${impl.error}\n`);
      continue;
    }
    const byArea = areas.map((a) => cell(impl.cases.filter((r) => areaOf(r.id) === a), color)).join('');
    const limitCase = impl.cases.find((r) => r.id === 'concurrency.limit');
    const limit = limitText(limitCase?.measurements) ?? limitCase?.actual ?? '';
    process.stdout.write(`${impl.name.padEnd(24)}${byArea}${limit}\n`);
  }
  for (const spec of missing) process.stdout.write(`${spec.name.padEnd(24)}not built: ${unbuilt ?? 'make -C servers/c'}\n`);
  const failing = report.implementations.filter((i) => i.cases.some((x) => x.outcome === 'fail')).length;
  process.stdout.write(`\n${report.implementations.length} implementations checked in ${(report.durationMs / 60000).toFixed(1)} min, ${failing} with a failing MUST case\n`);
  for (const line of writeReports(report, { json: values.json, junit: values.junit, html: values.html }, false)) process.stdout.write(`report ${line}\n`);
  return exitCodeOf(report, false);
}
