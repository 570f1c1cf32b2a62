import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { renderHtmlReport } from '../reports/html';
import { renderJunit } from '../reports/junit';
import { RunReport } from '../reports/run-report';
import { UsageError } from '../flags';

export interface ReportFiles {
  json?: string;
  junit?: string;
  html?: string;
}

/** Writes one report file (creating its directory); returns its absolute path. */
export function writeReportFile(file: string, text: string): string {
  const path = resolve(file);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  } catch (err) {
    throw new UsageError(`cannot write ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return path;
}

/** Writes the requested reports; returns one "kind: path" line per file written. */
export function writeReports(report: RunReport, files: ReportFiles, strict: boolean): string[] {
  const written: string[] = [];
  if (files.json) {
    // `cases` (every result, flat, tagged with its implementation) is the stable shape scripts read.
    const cases = report.implementations.flatMap((i) => i.cases.map((c) => ({ implementation: i.name, ...c })));
    written.push(`json: ${writeReportFile(files.json, `${JSON.stringify({ ...report, strict, cases }, null, 2)}\n`)}`);
  }
  if (files.junit) written.push(`junit: ${writeReportFile(files.junit, renderJunit(report, strict))}`);
  if (files.html) written.push(`html: ${writeReportFile(files.html, renderHtmlReport(report))}`);
  return written;
}
