import { BenchImplementation, BenchReport } from '../bench/bench-report';
import { ratioText } from '../bench/ratios';
import { escapeMarkup as esc } from './timeline-svg';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#393b79', '#637939', '#000000'];

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** A line chart of msgs/s per connection level, one line per implementation (TypeScript dashed). */
export function renderThroughputSvg(report: BenchReport): string {
  const levels = report.settings.connections;
  const impls = report.implementations.filter((i) => i.levels.some((l) => l.result));
  const width = 900;
  const height = 420;
  const left = 80;
  const right = 240;
  const top = 20;
  const bottom = 50;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const max = Math.max(1, ...impls.flatMap((i) => i.levels.map((l) => l.result?.msgsPerSec ?? 0)));
  const x = (index: number): number => left + (levels.length === 1 ? plotW / 2 : (index * plotW) / (levels.length - 1));
  const y = (v: number): number => top + plotH - (v / (max * 1.08)) * plotH;
  const parts: string[] = [];
  for (let t = 0; t <= 5; t++) {
    const v = (max * 1.08 * t) / 5;
    parts.push(`<line x1="${left}" x2="${left + plotW}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#ddd"/>`);
    parts.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${fmt(v)}</text>`);
  }
  levels.forEach((n, i) => parts.push(`<text x="${x(i).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle" font-size="11">${n}</text>`));
  parts.push(`<text x="${left + plotW / 2}" y="${height - 8}" text-anchor="middle" font-size="12">concurrent connections</text>`);
  parts.push(`<text x="14" y="${top + plotH / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${top + plotH / 2})">msgs/s</text>`);
  impls.forEach((impl, k) => {
    const color = PALETTE[k % PALETTE.length];
    const dash = impl.name.startsWith('ts/') ? ' stroke-dasharray="6 3"' : '';
    const points = levels
      .map((n, i) => ({ i, r: impl.levels.find((l) => l.connections === n)?.result }))
      .filter((p) => p.r !== undefined)
      .map((p) => `${x(p.i).toFixed(1)},${y(p.r?.msgsPerSec ?? 0).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${points.join(' ')}"><title>${esc(impl.name)}</title></polyline>`);
    for (const p of points) {
      const [px, py] = p.split(',');
      parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="${color}"/>`);
    }
    const ly = top + 10 + k * 18;
    parts.push(`<line x1="${left + plotW + 16}" x2="${left + plotW + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`);
    parts.push(`<text x="${left + plotW + 46}" y="${ly + 4}" font-size="12">${esc(impl.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="msgs/s per connection level">${parts.join('')}</svg>`;
}

function levelRows(impl: BenchImplementation): string {
  return impl.levels
    .map((l) => {
      const name = `<td>${esc(impl.name)}</td><td class="n">${l.connections}</td>`;
      if (!l.result) return `<tr>${name}<td colspan="7" class="skip">${esc(l.skipped ?? 'not run')}</td></tr>`;
      const r = l.result;
      const mib = l.rssBytes !== undefined ? (l.rssBytes / 1048576).toFixed(1) : '';
      return `<tr>${name}<td class="n">${fmt(r.msgsPerSec)}</td><td class="n">${fmt(r.latencyUs.p50)}</td><td class="n">${fmt(r.latencyUs.p90)}</td><td class="n">${fmt(r.latencyUs.p99)}</td><td class="n">${fmt(r.latencyUs.p999)}</td><td class="n">${mib}</td><td class="n">${r.errors}</td></tr>`;
    })
    .join('\n');
}

function c10kRows(report: BenchReport): string {
  return report.implementations
    .filter((i) => i.c10k)
    .map((i) => {
      const c = i.c10k;
      if (!c) return '';
      if ('skipped' in c) return `<tr><td>${esc(i.name)}</td><td colspan="5" class="skip">${esc(c.skipped)}</td></tr>`;
      return `<tr><td>${esc(i.name)}</td><td class="n">${c.acked} / ${c.connections}</td><td class="n">${fmt(c.connectMs)}</td><td class="n">${fmt(c.totalMs)}</td><td class="n">${fmt(c.bytesPerConnection)}</td><td class="n">${c.errors}</td></tr>`;
    })
    .join('\n');
}

/** The tracked ratios: one row per pair, one column per pipeline, each beside its goal. */
export function renderRatioTable(report: BenchReport): string {
  const pipelines = [...new Set(report.ratios.map((r) => r.pipeline))].sort((a, b) => a - b);
  const labels = [...new Set(report.ratios.map((r) => r.label))];
  if (labels.length === 0) return '';
  const cell = (label: string, pipeline: number): string => {
    const r = report.ratios.find((x) => x.label === label && x.pipeline === pipeline);
    if (!r) return '<td class="skip">not measured</td>';
    const met = r.value >= r.goal ? 'met' : 'missed';
    return `<td class="n ${met}"><b>${ratioText(r.value)}</b> (goal ≥ ${r.goal}×)<br/>${fmt(r.numeratorMsgsPerSec)} / ${fmt(r.denominatorMsgsPerSec)} msgs/s</td>`;
  };
  const first = report.ratios[0];
  return `<table id="ratios">
<tr><th>at ${first.connections} connections, C closed-loop client, median ratio of ${first.rounds} rounds</th>${pipelines.map((p) => `<th>pipeline ${p}</th>`).join('')}</tr>
${labels.map((label) => `<tr><td>${esc(label)}</td>${pipelines.map((p) => cell(label, p)).join('')}</tr>`).join('\n')}
</table>`;
}

/** The bench report as one self-contained HTML page: chart, tables, ratios, settings. */
export function renderBenchHtml(report: BenchReport): string {
  const s = report.settings;
  const check = report.generatorCheck;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>server-models bench</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; }
table { border-collapse: collapse; margin: 12px 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; }
th { background: #f3f3f3; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.skip { color: #777; font-style: italic; }
td.met { background: #e8f5e9; }
td.missed { background: #fdecea; }
</style>
</head>
<body>
<h1>server-models bench</h1>
<p>${esc(report.startedAt)} · ${(report.durationMs / 1000).toFixed(0)} s · ${report.machine.cpus} × ${esc(report.machine.cpuModel)} · Node ${esc(report.machine.node)} · Linux ${esc(report.machine.kernel)}</p>
<p>Closed loop at work delay 0: ${s.pipeline} message(s) in flight per connection, ${s.warmupMs / 1000} s warm-up then ${s.durationMs / 1000} s measured per level, ${s.threads} generator thread(s). ${esc(report.fdNote)}.</p>
<h2>Throughput</h2>
${renderThroughputSvg(report)}
${report.ratios.length > 0 || check ? `<h2>Ratios</h2>${renderRatioTable(report)}${check ? `<ul><li>load generator vs minimal C closed-loop client on ${esc(check.server)} at ${check.connections} connections: <b>${check.ratio.toFixed(2)}×</b> (medians of ${check.rounds.length} alternating rounds, ${fmt(check.generatorMsgsPerSec)} vs ${fmt(check.cClientMsgsPerSec)} msgs/s; goal ≥ 0.8×)</li></ul>` : ''}` : ''}
<h2>Every level</h2>
<table id="levels">
<tr><th>implementation</th><th>connections</th><th>msgs/s</th><th>p50 µs</th><th>p90 µs</th><th>p99 µs</th><th>p99.9 µs</th><th>server RSS MiB</th><th>errors</th></tr>
${report.implementations.map((i) => (i.error ? `<tr><td>${esc(i.name)}</td><td colspan="8" class="skip">${esc(i.error)}</td></tr>` : levelRows(i))).join('\n')}
</table>
${s.c10k !== undefined ? `<h2>C10K: ${s.c10k} connections held at once, one message each</h2>
<table id="c10k">
<tr><th>implementation</th><th>acked</th><th>connect ms</th><th>all acked ms</th><th>server bytes / connection</th><th>errors</th></tr>
${c10kRows(report)}
</table>` : ''}
</body>
</html>
`;
}
