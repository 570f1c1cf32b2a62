import { CaseResult, limitText, Outcome, OUTCOMES } from '../cases/types';
import { Limit } from '../harness/models';
import { ImplementationReport, RunReport } from './run-report';
import { escapeMarkup as esc, renderTimelineSvg } from './timeline-svg';


/** Cell text: short enough for a matrix of some forty columns. */
const CELL_LABELS: Record<Outcome, string> = { pass: 'pass', fail: 'fail', warn: 'warn', skip: 'skip', informational: 'info', blocked: 'blocked', error: 'kit error' };

/** What each outcome means, for the legend. */
const OUTCOME_MEANINGS: Record<Outcome, string> = {
  pass: 'the server does what the case checks', fail: 'a MUST case failed', warn: 'a SHOULD case failed',
  skip: 'does not apply (the reason is given)', informational: 'measured, not judged',
  blocked: 'could not be measured (the server died, nothing listened); the cases that explain it are named',
  error: 'a fault of the kit itself, not of the server (the run exits 2)',
};

const STYLE = `
:root { color-scheme: light; --pass: #2e7d32; --pass-bg: #dcf1dd; --fail: #b71c1c; --fail-bg: #fbdede;
  --ns: #8a5a00; --ns-bg: #ffefc6; --skip: #5f5f5f; --skip-bg: #ececec; --info: #1a5597; --info-bg: #deeaf8;
  --blocked: #6a1b9a; --blocked-bg: #f0e0f6; --error: #fff; --error-bg: #b71c1c; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1d; background: #fafafa; margin: 0; padding: 0 24px 48px; }
h1 { font-size: 22px; margin: 20px 0 6px; }
h2 { font-size: 18px; margin: 0 0 8px; }
h3 { font-size: 14px; margin: 0; font-weight: 600; }
code, pre { font: 12.5px/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
a { color: inherit; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 8px 0; }
dl.meta dt { color: #555; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
ul.counts { list-style: none; display: flex; flex-wrap: wrap; gap: 8px; padding: 0; margin: 10px 0 20px; }
ul.counts li { padding: 3px 10px; border-radius: 12px; }
.o-pass { color: var(--pass); background: var(--pass-bg); }
.o-fail { color: var(--fail); background: var(--fail-bg); }
.o-warn { color: var(--ns); background: var(--ns-bg); }
.o-skip { color: var(--skip); background: var(--skip-bg); }
.o-informational { color: var(--info); background: var(--info-bg); }
.o-blocked { color: var(--blocked); background: var(--blocked-bg); }
.o-error { color: var(--error); background: var(--error-bg); }
.o-none { color: #999; background: #fff; }
.scroll { overflow-x: auto; background: #fff; border: 1px solid #ddd; border-radius: 6px; }
#matrix { border-collapse: collapse; font-size: 12px; }
#matrix th, #matrix td { border: 1px solid #e2e2e2; padding: 3px 5px; text-align: center; white-space: nowrap; }
#matrix th.impl { text-align: left; position: sticky; left: 0; background: #fff; z-index: 1; }
#matrix thead th { background: #f3f3f3; font-weight: 600; }
#matrix thead th.case { vertical-align: bottom; padding: 6px 2px; }
#matrix thead th.case span { writing-mode: vertical-rl; transform: rotate(180deg); font-weight: 500; }
#matrix td.cell { padding: 0; }
#matrix td.cell a { display: block; padding: 3px 5px; text-decoration: none; min-width: 3.2em; }
#matrix td.cell small { display: block; font-size: 9.5px; }
#matrix td.xfail { background-image: repeating-linear-gradient(135deg, transparent 0 5px, rgba(0,0,0,.07) 5px 10px); }
#matrix td.xpass { outline: 2px dashed var(--ns); outline-offset: -3px; }
#matrix td.error { color: var(--fail); background: var(--fail-bg); text-align: left; white-space: normal; }
.legend { font-size: 12px; color: #555; margin: 6px 0 28px; display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
.legend span { padding: 1px 8px; border-radius: 10px; }
section.impl { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 16px 18px; margin: 0 0 24px; }
p.error { color: var(--fail); background: var(--fail-bg); padding: 8px 10px; border-radius: 4px; }
.timelines { display: flex; flex-direction: column; gap: 12px; margin: 12px 0 18px; }
.timelines figure { margin: 0; }
svg.timeline { max-width: 100%; height: auto; border: 1px solid #e6e6e6; border-radius: 4px; display: block; }
article.case { border-left: 4px solid #ccc; padding: 6px 10px; margin: 6px 0; background: #fcfcfc; }
article.case.is-pass { border-left-color: var(--pass); }
article.case.is-fail { border-left-color: var(--fail); }
article.case.is-warn { border-left-color: var(--ns); }
article.case.is-skip { border-left-color: var(--skip); }
article.case.is-informational { border-left-color: var(--info); }
article.case.is-blocked { border-left-color: var(--blocked); }
article.case.is-error { border-left-color: var(--error-bg); }
article.case:target { box-shadow: 0 0 0 2px #1a5597; }
.badge { display: inline-block; min-width: 5.5em; text-align: center; padding: 0 6px; border-radius: 10px; font-size: 12px; font-weight: 600; }
.level { font-size: 11px; color: #555; border: 1px solid #ccc; border-radius: 3px; padding: 0 4px; }
.duration { color: #666; font-weight: normal; font-size: 12px; }
.case-title { font-weight: normal; }
.expected-note { font-size: 12px; color: var(--ns); font-weight: 600; }
table.fields { border-collapse: collapse; margin: 6px 0 0; width: 100%; }
table.fields th { text-align: left; vertical-align: top; color: #555; font-weight: 500; padding: 2px 12px 2px 0; width: 9em; white-space: nowrap; }
table.fields td { padding: 2px 0; vertical-align: top; }
table.evidence { border-collapse: collapse; }
table.evidence th { text-align: left; vertical-align: top; font-weight: 500; padding: 1px 10px 1px 0; color: #333; }
table.evidence td { padding: 1px 0; vertical-align: top; }
`;

function areaOf(caseId: string): string {
  const dot = caseId.indexOf('.');
  return dot < 0 ? caseId : caseId.slice(0, dot);
}

function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function formatLimit(limit: Limit): string {
  return limit === 'unbounded' ? 'unbounded' : String(limit);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** What concurrency.limit measured ("5", "≥ 65"), or what it saw when it failed. */
function measuredLimit(impl: ImplementationReport): string {
  const result = impl.cases.find((r) => r.id === 'concurrency.limit');
  if (!result) return '—';
  const measured = limitText(result.measurements);
  if (measured !== undefined) return measured;
  if (result.actual !== undefined) return result.actual;
  return result.outcome === 'skip' ? 'skipped' : '—';
}

function slugify(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'implementation';
}

/** A distinct anchor slug per implementation: two names may slug alike ("ts/prefork", "ts prefork"). */
function implementationSlugs(impls: ImplementationReport[]): string[] {
  const used = new Set<string>();
  return impls.map((impl) => {
    const base = slugify(impl.name);
    let slug = base;
    for (let n = 2; used.has(slug); n++) slug = `${base}-${n}`;
    used.add(slug);
    return slug;
  });
}

function caseAnchor(implSlug: string, caseId: string): string {
  return `impl-${implSlug}--${caseId.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/** Case ids of the run, areas in first-seen order and the cases of each area together. */
function caseColumns(report: RunReport): { area: string; ids: string[] }[] {
  const areas = new Map<string, string[]>();
  for (const impl of report.implementations) {
    for (const r of impl.cases) {
      const ids = areas.get(areaOf(r.id)) ?? [];
      if (!ids.includes(r.id)) ids.push(r.id);
      areas.set(areaOf(r.id), ids);
    }
  }
  return [...areas].map(([area, ids]) => ({ area, ids }));
}

/** How a result stands against the implementation's --expect-fail list. */
type Expectation = 'none' | 'expected-failure' | 'unexpected-pass' | 'listed';

function expectationOf(impl: ImplementationReport, r: CaseResult): Expectation {
  if (!(impl.expectedFailures ?? []).includes(r.id)) return 'none';
  if (r.outcome === 'fail' || r.outcome === 'warn') return 'expected-failure';
  return r.outcome === 'pass' ? 'unexpected-pass' : 'listed';
}

const EXPECTATION_NOTES: Record<Expectation, string> = {
  none: '',
  'expected-failure': 'expected failure',
  'unexpected-pass': 'passed, but listed as an expected failure',
  listed: 'listed as an expected failure',
};

function outcomeCounts(report: RunReport): Record<Outcome, number> {
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const impl of report.implementations) for (const r of impl.cases) if (r.outcome in counts) counts[r.outcome]++;
  return counts;
}

function renderHeader(report: RunReport): string {
  const counts = outcomeCounts(report);
  const errors = report.implementations.filter((i) => i.error !== undefined).length;
  const expected = report.implementations.reduce((n, impl) => n + impl.cases.filter((r) => expectationOf(impl, r) === 'expected-failure').length, 0);
  const countItems = OUTCOMES.map((o) => `<li class="o-${o}">${counts[o]} ${esc(o)}</li>`);
  if (expected > 0) countItems.push(`<li class="o-warn">${plural(expected, 'expected failure')}</li>`);
  if (errors > 0) countItems.push(`<li class="o-fail">${plural(errors, 'implementation')} not checked</li>`);
  return `<header>
<h1>${esc(report.tool)} conformance report</h1>
<dl class="meta">
<dt>tool</dt><dd>${esc(report.tool)} ${esc(report.version)}</dd>
<dt>started</dt><dd>${esc(report.startedAt)}</dd>
<dt>duration</dt><dd>${esc(formatDuration(report.durationMs))}</dd>
<dt>timeout multiplier</dt><dd>${esc(String(report.timeoutMultiplier))}</dd>
<dt>implementations</dt><dd>${report.implementations.length}</dd>
</dl>
<ul class="counts">${countItems.join('')}</ul>
</header>`;
}

function renderMatrixCell(impl: ImplementationReport, slug: string, caseId: string): string {
  const r = impl.cases.find((c) => c.id === caseId);
  if (!r) return '<td class="cell o-none" title="not run">—</td>';
  const expectation = expectationOf(impl, r);
  const classes = ['cell', `o-${r.outcome}`, expectation === 'expected-failure' ? 'xfail' : '', expectation === 'unexpected-pass' ? 'xpass' : ''];
  const note = EXPECTATION_NOTES[expectation];
  const tooltip = [`${r.id}: ${r.outcome}`, note, r.message ?? ''].filter((s) => s !== '').join(' — ');
  const small = expectation === 'expected-failure' ? '<small>expected</small>' : expectation === 'unexpected-pass' ? '<small>xfail listed</small>' : '';
  return `<td class="${classes.filter(Boolean).join(' ')}"><a href="#${esc(caseAnchor(slug, r.id))}" title="${esc(tooltip)}">${esc(CELL_LABELS[r.outcome] ?? r.outcome)}${small}</a></td>`;
}

function renderMatrixRow(impl: ImplementationReport, slug: string, columns: string[]): string {
  const head = `<th class="impl" scope="row"><a href="#impl-${esc(slug)}">${esc(impl.name)}</a></th><td>${esc(impl.model)}</td><td>${esc(measuredLimit(impl))}</td>`;
  const body = impl.error !== undefined
    ? `<td class="error" colspan="${Math.max(1, columns.length)}">not checked: ${esc(impl.error)}</td>`
    : columns.map((id) => renderMatrixCell(impl, slug, id)).join('');
  return `<tr data-implementation="${esc(impl.name)}">${head}${body}</tr>`;
}

function renderMatrix(report: RunReport, slugs: string[]): string {
  const groups = caseColumns(report);
  const columns = groups.flatMap((g) => g.ids);
  const areaRow = groups.map((g) => `<th class="area" colspan="${g.ids.length}">${esc(g.area)}</th>`).join('');
  const caseRow = groups
    .flatMap((g) => g.ids.map((id) => `<th class="case" scope="col" title="${esc(id)}"><span>${esc(id.slice(g.area.length + 1) || id)}</span></th>`))
    .join('');
  const rows = report.implementations.map((impl, i) => renderMatrixRow(impl, slugs[i], columns));
  if (rows.length === 0) rows.push(`<tr><td colspan="${3 + columns.length}">no implementations in this run</td></tr>`);
  const legend = OUTCOMES.map((o) => `<span class="o-${o}" title="${esc(OUTCOME_MEANINGS[o])}">${esc(CELL_LABELS[o])}: ${esc(OUTCOME_MEANINGS[o])}</span>`).join('');
  return `<h2>Implementations × cases</h2>
<div class="scroll"><table id="matrix">
<thead>
<tr><th class="impl" rowspan="2">implementation</th><th rowspan="2">model</th><th rowspan="2">measured limit</th>${areaRow}</tr>
<tr>${caseRow}</tr>
</thead>
<tbody>
${rows.join('\n')}
</tbody>
</table></div>
<p class="legend">${legend}<span>striped: expected failure (--expect-fail)</span><span>dashed outline: listed as expected to fail, but passed</span></p>`;
}

/** Evidence values may be any JSON (or worse, from a hand-written file): never let one throw. */
function evidenceText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value); // a BigInt or a cycle
  }
}

function renderEvidence(evidence: Record<string, unknown> | undefined): string {
  const entries = evidence && typeof evidence === 'object' ? Object.entries(evidence) : [];
  if (entries.length === 0) return '';
  const rows = entries.map(([k, v]) => `<tr><th>${esc(k)}</th><td><pre>${esc(evidenceText(v))}</pre></td></tr>`).join('');
  return `<table class="evidence">${rows}</table>`;
}

function field(name: string, value: string | undefined): string {
  return value === undefined || value === '' ? '' : `<tr><th>${esc(name)}</th><td><pre>${esc(value)}</pre></td></tr>`;
}

function renderCase(impl: ImplementationReport, slug: string, r: CaseResult): string {
  const expectation = expectationOf(impl, r);
  const note = expectation === 'none' ? '' : ` <span class="expected-note">${esc(EXPECTATION_NOTES[expectation])}</span>`;
  const sessions = r.sessions?.length ? plural(r.sessions.length, 'client session') : undefined;
  const evidence = renderEvidence(r.evidence);
  const fields = [
    field(r.outcome === 'skip' ? 'skip reason' : r.outcome === 'blocked' ? 'not measured' : 'message', r.message),
    field('explained by', r.blockedBy?.join(', ')),
    field('expected', r.expected),
    field('actual', r.actual),
    field('sessions', sessions),
    evidence ? `<tr><th>evidence</th><td>${evidence}</td></tr>` : '',
    r.stack ? `<tr><th>kit stack</th><td><pre>${esc(r.stack)}</pre></td></tr>` : '',
  ].join('');
  return `<article class="case is-${esc(r.outcome)}" id="${esc(caseAnchor(slug, r.id))}">
<h3><span class="badge o-${esc(r.outcome)}">${esc(r.outcome)}</span> <code>${esc(r.id)}</code> <span class="level">${esc(r.level)}</span> <span class="case-title">${esc(r.title)}</span> <span class="duration">${esc(formatDuration(r.durationMs))}</span>${note}</h3>
${fields ? `<table class="fields">${fields}</table>` : ''}
</article>`;
}

/** The concurrency cases' sessions, as pictures: where serial and parallel service is visible. */
function renderTimelines(impl: ImplementationReport, slug: string): string {
  const traced = impl.cases.filter((r) => r.id.startsWith('concurrency.') && Array.isArray(r.sessions) && r.sessions.length > 0);
  if (traced.length === 0) return '';
  const figures = traced.map((r) => `<figure>${renderTimelineSvg(r.sessions ?? [], { title: r.id, delayMs: impl.delayMs, endMs: r.durationMs, idPrefix: `${slug}-${r.id}` })}</figure>`);
  return `<div class="timelines">${figures.join('\n')}</div>`;
}

function renderImplementation(impl: ImplementationReport, slug: string): string {
  const expected = impl.expectedFailures?.length ? `<dt>expected failures</dt><dd>${impl.expectedFailures.map((id) => `<code>${esc(id)}</code>`).join(', ')}</dd>` : '';
  const meta = `<dl class="meta">
<dt>command</dt><dd><code>${esc(impl.cmd)}</code></dd>
<dt>model</dt><dd>${esc(impl.model)}</dd>
<dt>work delay</dt><dd>${esc(String(impl.delayMs))} ms</dd>
<dt>declared limit</dt><dd>${esc(formatLimit(impl.limit))}</dd>
<dt>measured limit</dt><dd>${esc(measuredLimit(impl))}</dd>
${expected}</dl>`;
  const error = impl.error !== undefined ? `<p class="error">Not checked: ${esc(impl.error)}</p>` : '';
  const cases = impl.cases.map((r) => renderCase(impl, slug, r)).join('\n');
  return `<section class="impl" id="impl-${esc(slug)}">
<h2>${esc(impl.name)}</h2>
${meta}
${error}
${renderTimelines(impl, slug)}
${cases}
</section>`;
}

/** One self-contained HTML page for a run: header, implementation × case matrix, then every result with its evidence. */
export function renderHtmlReport(report: RunReport): string {
  const slugs = implementationSlugs(report.implementations);
  const sections = report.implementations.map((impl, i) => renderImplementation(impl, slugs[i])).join('\n');
  // The CSP forbids every script and every fetch: even if some text slipped through unescaped, it could
  // neither run nor call out.
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(report.tool)} report — ${esc(plural(report.implementations.length, 'implementation'))}</title>
<style>${STYLE}</style>
</head>
<body>
${renderHeader(report)}
<main>
${renderMatrix(report, slugs)}
${sections}
</main>
</body>
</html>
`;
}
