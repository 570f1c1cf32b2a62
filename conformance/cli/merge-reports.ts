import { resolve } from 'node:path';
import { formatImplementationTally, formatResult, useColor } from '../reports/console';
import { mergeReports, MergeError } from '../reports/merge';
import { RunReport } from '../reports/run-report';
import { exitCodeOf, judgeCase } from '../reports/verdict';
import { HELP_FLAG, helpAsked, parseFlags, stringFlags, UsageError } from '../flags';
import { readReportFile } from './read-report';
import { writeReports } from './write-reports';

export const MERGE_REPORTS_HELP = `Usage: server-models merge-reports <report.json>... [--json FILE] [--junit FILE] [--html FILE] [--strict]

Joins the JSON reports of the shards of one run (check --manifest ... --shard I/N or matrix --shard I/N,
each on its own machine) into one report of the same form as an unsharded run's: the implementations in
the run's order, every case result, no "shard" field. Every shard must be given, once. Reports written
without --shard merge too when their implementations differ, in the order given.

The merged run's startedAt is the earliest report's, its durationMs the longest report's: shards run
side by side. Its timeoutMultiplier is the largest of theirs.

  --json <file>              the merged JSON report
  --junit <file>             JUnit XML for CI test report parsers
  --html <file>              matrix, evidence and session timelines, one self-contained page
  --strict                   a SHOULD failure fails the run too (the shards' own --strict is not kept)
  -h, --help                 this help

Prints one line per case, as check does, and a tally per implementation.
Exit status: 0 no failure, 1 a MUST case (or with --strict a SHOULD case) failed, 2 a usage error, a
report missing, unreadable or not of the same run (a shard missing or given twice), a target that
could not start or a kit error.`;

/** Every case of the merged run, as check prints them, and a tally per implementation. */
function printMerged(report: RunReport, strict: boolean, heading: string): void {
  const color = useColor();
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  out(`server-models merge-reports: ${heading}`);
  for (const impl of report.implementations) {
    out(`── ${impl.name} (${impl.model})`);
    if (impl.error !== undefined) {
      out(`server-models: target error: ${impl.name}: ${impl.error}`);
      continue;
    }
    const expected = new Set(impl.expectedFailures ?? []);
    for (const r of impl.cases) out(formatResult(r, color, judgeCase(r, expected.has(r.id), strict)));
    out(formatImplementationTally(impl, strict, true));
  }
  out(`${report.implementations.length} implementations in ${(report.durationMs / 1000).toFixed(1)} s (the longest report's time: shards run side by side)`);
}

/** `server-models merge-reports`: returns the exit code. */
export async function mergeReportsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, { ...stringFlags('json', 'junit', 'html'), strict: { type: 'boolean' }, ...HELP_FLAG }, true);
  if (helpAsked(values, MERGE_REPORTS_HELP)) return 0;
  if (positionals.length === 0) throw new UsageError('merge-reports needs the JSON reports to merge, e.g. server-models merge-reports shard-1.json shard-2.json');
  const twice = positionals.find((file, i) => positionals.findIndex((f) => resolve(f) === resolve(file)) !== i);
  if (twice !== undefined) throw new UsageError(`${twice} is given twice`);
  const inputs = positionals.map((file) => ({ file, report: readReportFile(file) }));
  let report: RunReport;
  try {
    report = mergeReports(inputs);
  } catch (err) {
    if (err instanceof MergeError) throw new UsageError(err.message);
    throw err;
  }
  const strict = values.strict === true;
  const shard = inputs[0].report.shard;
  printMerged(report, strict, shard ? `${shard.count} shards of a run of ${shard.targets.length} targets` : `${inputs.length} reports`);
  for (const line of writeReports(report, { json: values.json, junit: values.junit, html: values.html }, strict)) process.stdout.write(`report ${line}\n`);
  return exitCodeOf(report, strict);
}
