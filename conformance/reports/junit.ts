import { CaseResult } from '../cases/types';
import { ImplementationReport, RunReport } from './run-report';
import { judgeImplementation, Verdict } from './verdict';

/** Escapes text for XML attributes and content, dropping characters XML 1.0 cannot carry. */
export function escapeXml(text: string): string {
  return text
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD]/gu, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function details(r: CaseResult): string {
  const lines: string[] = [];
  if (r.expected !== undefined) lines.push(`expected: ${r.expected}`, `actual:   ${r.actual ?? ''}`);
  else if (r.message) lines.push(r.message);
  for (const [k, v] of Object.entries(r.evidence ?? {})) lines.push(`${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return lines.join('\n');
}

function testcase(impl: ImplementationReport, r: CaseResult, verdict: Verdict): string {
  const open = `    <testcase classname="${escapeXml(`server-models.${impl.name}`)}" name="${escapeXml(`${r.id} (${r.level})`)}" time="${seconds(r.durationMs)}"`;
  const message = escapeXml(r.message ?? '');
  switch (verdict) {
    case 'failed':
      return `${open}>\n      <failure message="${message}" type="${r.level}">${escapeXml(details(r))}</failure>\n    </testcase>`;
    case 'skipped':
      return `${open}>\n      <skipped message="${message}"/>\n    </testcase>`;
    case 'expected-failure':
      // Listed in --expect-fail: reported as skipped, the way xfail is reported by other test tools.
      return `${open}>\n      <skipped message="${escapeXml(`expected failure: ${r.message ?? ''}`)}"/>\n      <system-out>${escapeXml(details(r))}</system-out>\n    </testcase>`;
    case 'warn':
    case 'unexpected-pass':
    case 'info': {
      const note = verdict === 'warn' ? `warn: a SHOULD case failed\n${details(r)}` : verdict === 'unexpected-pass' ? 'listed in --expect-fail but passed' : (r.message ?? '');
      return `${open}>\n      <system-out>${escapeXml(note)}</system-out>\n    </testcase>`;
    }
    case 'passed':
      return `${open}/>`;
    case 'blocked':
      // Not a failure of the server: an error element, the way test tools report a test that could not run.
      return `${open}>\n      <error message="${message}" type="blocked">${escapeXml(`${details(r)}${r.blockedBy?.length ? `\nexplained by: ${r.blockedBy.join(', ')}` : ''}`)}</error>\n    </testcase>`;
    case 'kit-error':
      return `${open}>\n      <error message="${message}" type="kit-error">${escapeXml(r.stack ?? details(r))}</error>\n    </testcase>`;
  }
}

interface SuiteXml {
  xml: string;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

function testsuite(impl: ImplementationReport, strict: boolean, timestamp: string): SuiteXml {
  const verdicts = judgeImplementation(impl, strict);
  const attrs = (tests: number, failures: number, errors: number, skipped: number, ms: number): string =>
    `name="${escapeXml(impl.name)}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${seconds(ms)}" timestamp="${timestamp}"`;
  if (impl.error !== undefined) {
    const body = `    <testcase classname="${escapeXml(`server-models.${impl.name}`)}" name="launch" time="0.000">\n      <error message="${escapeXml(impl.error)}" type="target-error">${escapeXml(`${impl.cmd}\n${impl.error}`)}</error>\n    </testcase>`;
    return { xml: `  <testsuite ${attrs(1, 0, 1, 0, 0)}>\n${body}\n  </testsuite>`, tests: 1, failures: 0, errors: 1, skipped: 0 };
  }
  const counts = [...verdicts.values()];
  const failures = counts.filter((v) => v === 'failed').length;
  const skipped = counts.filter((v) => v === 'skipped' || v === 'expected-failure').length;
  const errors = counts.filter((v) => v === 'blocked' || v === 'kit-error').length;
  const ms = impl.cases.reduce((sum, r) => sum + r.durationMs, 0);
  const cases = impl.cases.map((r) => testcase(impl, r, verdicts.get(r.id) ?? 'info')).join('\n');
  const xml = `  <testsuite ${attrs(impl.cases.length, failures, errors, skipped, ms)}>\n${cases}\n  </testsuite>`;
  return { xml, tests: impl.cases.length, failures, errors, skipped };
}

/** JUnit XML of a run, in the shape common CI parsers read (testsuites > testsuite > testcase). */
export function renderJunit(report: RunReport, strict: boolean): string {
  const timestamp = report.startedAt.replace(/\.\d+Z$/, '');
  const suites = report.implementations.map((i) => testsuite(i, strict, timestamp));
  const total = (key: 'tests' | 'failures' | 'errors' | 'skipped'): number => suites.reduce((n, s) => n + s[key], 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="server-models" tests="${total('tests')}" failures="${total('failures')}" errors="${total('errors')}" skipped="${total('skipped')}" time="${seconds(report.durationMs)}">`,
    ...suites.map((s) => s.xml),
    '</testsuites>',
    '',
  ].join('\n');
}
