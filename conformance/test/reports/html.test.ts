import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { XMLValidator } from 'fast-xml-parser';
import { Browser, chromium, Page } from 'playwright-core';
import { findCase } from '../../cases';
import { CaseResult, ConformanceCase } from '../../cases/types';
import { SessionTrace } from '../../harness/session-trace';
import { makeDeadlines, resolveMultiplier } from '../../harness/deadlines';
import { stopAllTargets } from '../../harness/launcher';
import { ModelName } from '../../harness/models';
import { resolveTarget } from '../../harness/target';
import { referenceTarget } from '../../reference';
import { renderHtmlReport } from '../../reports/html';
import { ImplementationReport, RunReport } from '../../reports/run-report';
import { MAX_TIMELINE_ROWS, renderTimelineSvg } from '../../reports/timeline-svg';
import { runSuite } from '../../runner';

// ── a hand-made run: every outcome, an implementation that could not start, hostile text ──────────

const HOSTILE_LABEL = '<script>alert("label")</script>';
const HOSTILE_NAME = `evil <b>server</b> & 'co'`;

/** Sessions served one after the other: each gets its ack one delay after the previous one's. */
function serialSessions(n: number, delayMs: number): SessionTrace[] {
  return Array.from({ length: n }, (_, i) => ({
    label: i === 0 ? HOSTILE_LABEL : `session ${i + 1}`,
    connectedAt: i,
    acksAt: [(i + 1) * delayMs + 3],
    endedAt: (i + 1) * delayMs + 5,
    endedBy: 'server-fin' as const,
  }));
}

/** Sessions served at once: every ack at the same moment. */
function parallelSessions(n: number, delayMs: number): SessionTrace[] {
  return Array.from({ length: n }, (_, i) => ({ label: `session ${i + 1}`, connectedAt: i, acksAt: [delayMs + 4] }));
}

/**
 * A serial server that leaves the waiting sessions in the kernel's accept queue: session i is accepted
 * when session i - 1 ends and served at once; the first is accepted at connect but sends its message
 * 20 ms later (accepted, waiting).
 */
function queuedSessions(n: number, delayMs: number): SessionTrace[] {
  return Array.from({ length: n }, (_, i) => {
    const ack = (i + 1) * delayMs + (i === 0 ? 20 : 5);
    return { label: `session ${i + 1}`, connectedAt: i, acceptedAt: i === 0 ? 0 : i * delayMs + 5, acksAt: [ack], endedAt: ack + 2, endedBy: 'server-fin' as const };
  });
}

function result(id: string, outcome: CaseResult['outcome'], extra: Partial<CaseResult> = {}): CaseResult {
  const level = outcome === 'informational' ? 'INFO' : outcome === 'warn' ? 'SHOULD' : 'MUST';
  return { id, level, title: `title of ${id}`, outcome, durationMs: 120, ...extra };
}

const serial: ImplementationReport = {
  name: 'ts/single-process',
  model: 'single-process',
  cmd: 'node dist/servers/ts/single-process.js --port {port} --delay-ms {delayMs}',
  delayMs: 100,
  limit: 1,
  expectedFailures: ['close.fin.goodbye'],
  cases: [
    result('protocol.ack.single', 'pass', { sessions: [{ label: 'client 1', connectedAt: 1, acksAt: [102], endedAt: 110, endedBy: 'client' }] }),
    result('protocol.framing.byte-by-byte', 'warn', {
      message: 'expected 1 ack; saw <img src=x onerror=alert(1)>',
      expected: '1 ack',
      actual: '<img src=x onerror=alert(1)>',
      evidence: { received: 'ack', counts: { fds: 3, threads: [1, 2] }, nothing: null, big: BigInt(7) },
    }),
    result('close.fin.goodbye', 'fail', { message: 'expected FIN; saw RST', expected: 'FIN', actual: 'RST', evidence: { closeKind: 'rst' } }),
    result('concurrency.limit', 'pass', { message: 'measured limit 1', measurements: { servedAtOnce: { count: 1, held: 2 } }, sessions: serialSessions(2, 100) }),
    result('concurrency.timing', 'informational', { message: '2600 ms for 25 messages', sessions: serialSessions(5, 100) }),
    result('concurrency.burst', 'pass', { sessions: [] }),
    result('resources.fds.idle', 'skip', { message: 'this machine has no /proc' }),
  ],
};

const parallel: ImplementationReport = {
  name: HOSTILE_NAME,
  model: 'event-loop',
  cmd: 'python3 server.py --port {port} && echo "<script>alert(1)</script>"',
  delayMs: 100,
  limit: 'unbounded',
  cases: [
    result('protocol.ack.single', 'pass'),
    result('resources.fds', 'blocked', { message: 'the server died during the sessions (killed by SIGPIPE)', blockedBy: ['close.leave-before-ack.server-survives'] }),
    result('resources.zombies', 'error', { message: 'kit error: cannot read x', stack: 'TypeError: cannot read x\n    at kit.ts:1' }),
    result('concurrency.limit', 'pass', {
      message: 'measured limit ≥ 65',
      measurements: { servedAtOnce: { count: 65, held: 65 } },
      sessions: [
        ...parallelSessions(64, 100),
        { label: 'reset one', connectedAt: 2, acksAt: [], endedAt: 50, endedBy: 'server-rst' },
      ],
    }),
    result('concurrency.timing', 'informational', { sessions: parallelSessions(5, 100) }),
  ],
};

const broken: ImplementationReport = {
  name: 'c/prefork',
  model: 'prefork',
  cmd: 'servers/c/build/prefork --port {port}',
  delayMs: 100,
  limit: 5,
  error: 'did not listen within 10000 ms: <no output>',
  cases: [],
};

const handMade: RunReport = {
  tool: 'server-models',
  version: '0.1.0',
  startedAt: '2025-01-01T12:00:00.000Z',
  durationMs: 73_500,
  timeoutMultiplier: 1.5,
  implementations: [serial, parallel, broken],
};

/** Concurrency cases that have at least one session: one timeline each. */
function tracedConcurrencyCases(report: RunReport): CaseResult[] {
  return report.implementations.flatMap((i) => i.cases).filter((r) => r.id.startsWith('concurrency.') && (r.sessions?.length ?? 0) > 0);
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** x of every ack dot in a timeline, row by row. */
function ackXs(svg: string): number[] {
  return [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
}

describe('renderTimelineSvg', () => {
  test('is well-formed XML with one labelled row per session', () => {
    const svg = renderTimelineSvg(serialSessions(5, 100), { title: 'concurrency.timing', delayMs: 100 });
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('concurrency.timing');
    expect(svg).toContain('session 5');
    expect(svg).toContain('5 sessions, 5 acks, work delay 100 ms');
  });

  test('serial service draws a staircase of acks, parallel service a column', () => {
    // The legend's ack dot is the last circle; the rows' dots come first.
    const staircase = ackXs(renderTimelineSvg(serialSessions(5, 100), { delayMs: 100 })).slice(0, 5);
    const column = ackXs(renderTimelineSvg(parallelSessions(5, 100), { delayMs: 100 })).slice(0, 5);
    for (let i = 1; i < staircase.length; i++) expect(staircase[i]).toBeGreaterThan(staircase[i - 1] + 50);
    expect(new Set(column).size).toBe(1);
  });

  test('escapes labels and titles', () => {
    const svg = renderTimelineSvg(serialSessions(2, 100), { title: '<t> & "q"' });
    expect(svg).not.toContain('<script');
    expect(svg).toContain(escapeHtml(HOSTILE_LABEL));
    expect(svg).toContain('&lt;t&gt; &amp; &quot;q&quot;');
    expect(XMLValidator.validate(svg)).toBe(true);
  });

  test('says how each session ended, and which are still open', () => {
    const svg = renderTimelineSvg([
      { label: 'a', connectedAt: 0, acksAt: [100], endedAt: 101, endedBy: 'server-fin' },
      { label: 'b', connectedAt: 0, acksAt: [], endedAt: 20, endedBy: 'server-rst' },
      { label: 'c', connectedAt: 0, acksAt: [100], endedAt: 150, endedBy: 'client' },
      { label: 'd', connectedAt: 0, acksAt: [] },
    ]);
    expect(svg).toContain('server closed (FIN) at 101 ms');
    expect(svg).toContain('server reset (RST) at 20 ms');
    expect(svg).toContain('client closed at 150 ms');
    expect(svg).toContain('still open when the case ended');
  });

  test(`shows at most ${MAX_TIMELINE_ROWS} rows and says how many were left out`, () => {
    const svg = renderTimelineSvg(parallelSessions(100, 100));
    expect(svg).toContain(`session ${MAX_TIMELINE_ROWS}<`);
    expect(svg).not.toContain(`session ${MAX_TIMELINE_ROWS + 1}<`);
    expect(svg).toContain(`${100 - MAX_TIMELINE_ROWS} more sessions not shown`);
  });

  test('a session still open at the end runs up to the end of the case', () => {
    const svg = renderTimelineSvg([{ label: 'waiting', connectedAt: 10, acksAt: [] }], { endMs: 1000 });
    expect(svg).toContain('>1000</text>');
    expect(svg).toContain('still open when the case ended');
  });

  test('where acceptance is known: hatched in the kernel\'s accept queue, an outline while accepted and waiting, solid once served', () => {
    const svg = renderTimelineSvg(queuedSessions(3, 100), { delayMs: 100, idPrefix: 'c/single process' });
    expect(XMLValidator.validate(svg)).toBe(true);
    // sessions 2 and 3 waited in the kernel; session 1 was accepted, then waited 20 ms for its message
    expect(svg.match(/<rect [^>]*class="phase-kernel-queue" fill="url\(#c-single-process-kernel-queue\)"/g)).toHaveLength(2);
    expect(svg.match(/<rect class="phase-accepted"[^>]*fill="#fff" stroke=/g)).toHaveLength(1);
    expect(svg.match(/<rect [^>]*class="phase-served"/g)).toHaveLength(3);
    expect(svg).toContain('<pattern id="c-single-process-kernel-queue"');
    expect(svg).toContain('accepted at 105 ms');
    expect(svg).toMatch(/class="phase-legend".*in the kernel&#39;s accept queue.*accepted, waiting for the server.*served \(from the first ack less the work delay\)/);
  });

  test('without acceptance: one bar per session and no phase legend, as before', () => {
    const svg = renderTimelineSvg(serialSessions(3, 100), { delayMs: 100 });
    expect(svg).not.toMatch(/phase-|<pattern/);
  });

  test('no sessions: a small picture that says so', () => {
    const svg = renderTimelineSvg([], { title: 'concurrency.burst' });
    expect(svg).toContain('no sessions');
    expect(XMLValidator.validate(svg)).toBe(true);
  });
});

describe('renderHtmlReport on a hand-made run', () => {
  const html = renderHtmlReport(handMade);

  test('names every implementation, escaped', () => {
    for (const impl of handMade.implementations) expect(html).toContain(escapeHtml(impl.name));
    expect(html).not.toContain(HOSTILE_NAME);
  });

  test('has the matrix with a row per implementation and a cell per case', () => {
    expect(html).toContain('<table id="matrix">');
    for (const impl of handMade.implementations) expect(html).toContain(`data-implementation="${escapeHtml(impl.name)}"`);
    for (const outcome of ['o-pass', 'o-fail', 'o-warn', 'o-skip', 'o-informational', 'o-blocked', 'o-error']) expect(html).toContain(`class="cell ${outcome}`);
    expect(html).toContain('not checked: did not listen within 10000 ms: &lt;no output&gt;');
  });

  test('a blocked case says what was not measured and which cases explain it; a kit error shows its stack', () => {
    expect(html).toContain('<th>not measured</th><td><pre>the server died during the sessions (killed by SIGPIPE)</pre></td>');
    expect(html).toContain('<th>explained by</th><td><pre>close.leave-before-ack.server-survives</pre></td>');
    expect(html).toContain('TypeError: cannot read x');
    expect(html).toMatch(/class="o-blocked"[^>]*>blocked: could not be measured/);
  });

  test('marks expected failures and shows the measured limit', () => {
    expect(html).toMatch(/<td class="cell o-fail xfail"><a href="#impl-ts-single-process--close\.fin\.goodbye"/);
    expect(html).toContain('id="impl-ts-single-process--close.fin.goodbye"');
    expect(html).toContain('<td>≥ 65</td>');
  });

  test('draws one timeline per concurrency case with sessions', () => {
    const svgs = html.match(/<svg /g) ?? [];
    expect(svgs).toHaveLength(tracedConcurrencyCases(handMade).length);
  });

  test('escapes everything that comes from results: no markup of theirs survives', () => {
    expect(html.toLowerCase()).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain(escapeHtml('<img src=x onerror=alert(1)>'));
    expect(html).toContain(escapeHtml(HOSTILE_LABEL));
  });

  test('stringifies evidence that is not a string, and survives values JSON cannot hold', () => {
    expect(html).toContain(escapeHtml(JSON.stringify({ fds: 3, threads: [1, 2] }, null, 2)));
    expect(html).toContain('<th>nothing</th><td><pre>null</pre>');
    expect(html).toContain('<th>big</th><td><pre>7</pre>');
  });

  test('an empty run still renders', () => {
    const empty = renderHtmlReport({ ...handMade, implementations: [] });
    expect(empty).toContain('id="matrix"');
    expect(empty).toContain('no implementations in this run');
  });
});

// ── in a real browser ──────────────────────────────────────────────────────────────────────────────

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A test that needs Chromium: skipped with the way to get it, or failed when SM_REQUIRE_CHROMIUM=1. */
function browserTest(name: string, body: () => Promise<void>, timeoutMs: number): void {
  if (existsSync(CHROMIUM)) {
    test(name, body, timeoutMs);
  } else if (process.env.SM_REQUIRE_CHROMIUM === '1') {
    test(name, () => {
      throw new Error(`SM_REQUIRE_CHROMIUM=1 but ${CHROMIUM} does not exist: apt-get install chromium`);
    });
  } else {
    test.skip(`${name}: chromium not installed (apt-get install chromium)`, () => undefined);
  }
}

interface LoadedPage {
  page: Page;
  /** console errors and uncaught exceptions */
  problems: string[];
  /** every URL the page asked for */
  requests: string[];
  url: string;
}

describe('the HTML report in headless Chromium', () => {
  let browser: Browser | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'sm-html-report-'));

  afterAll(async () => {
    await browser?.close();
    await stopAllTargets();
    rmSync(dir, { recursive: true, force: true });
  });

  async function load(html: string, file: string): Promise<LoadedPage> {
    browser ??= await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const path = join(dir, file);
    writeFileSync(path, html);
    const page = await browser.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    const url = pathToFileURL(path).href;
    await page.goto(url, { waitUntil: 'load' });
    return { page, problems, requests, url };
  }

  /** Each implementation's matrix row exists and is visible; each timeline has a size. */
  async function expectRendered(loaded: LoadedPage, report: RunReport): Promise<void> {
    const { page } = loaded;
    expect(loaded.problems).toEqual([]);
    expect(loaded.requests).toEqual([loaded.url]);
    expect(await page.locator('script').count()).toBe(0);
    const text = await page.locator('body').innerText();
    for (const impl of report.implementations) {
      const row = page.locator(`#matrix [data-implementation=${JSON.stringify(impl.name)}]`);
      expect(await row.count()).toBe(1);
      expect(await row.isVisible()).toBe(true);
      expect(text).toContain(impl.name);
    }
    const timelines = page.locator('svg.timeline');
    expect(await timelines.count()).toBe(tracedConcurrencyCases(report).length);
    for (const box of await Promise.all((await timelines.all()).map((t) => t.boundingBox()))) {
      expect(box?.width).toBeGreaterThan(0);
      expect(box?.height).toBeGreaterThan(0);
    }
  }

  browserTest('a hand-made run renders without errors', async () => {
    const loaded = await load(renderHtmlReport(handMade), 'hand-made.html');
    try {
      await expectRendered(loaded, handMade);
      // The hostile label is shown as text (in the row's tooltip), never run.
      expect(await loaded.page.locator('svg.timeline title', { hasText: HOSTILE_LABEL }).count()).toBeGreaterThan(0);
    } finally {
      await loaded.page.close();
    }
  }, 60_000);

  browserTest('sessions with acceptedAt draw their three phases and the legend', async () => {
    const report: RunReport = { ...handMade, implementations: [{ ...serial, cases: [result('concurrency.burst', 'pass', { sessions: queuedSessions(4, 100), listenQueue: [[0, 3], [105, 2], [205, 1], [305, 0]] })] }] };
    const loaded = await load(renderHtmlReport(report), 'phases.html');
    try {
      await expectRendered(loaded, report);
      const { page } = loaded;
      const drawn = async (selector: string): Promise<{ fill: string | null; stroke: string | null; width: number }[]> =>
        Promise.all((await page.locator(`svg.timeline ${selector}`).all()).map(async (r) => ({
          fill: await r.getAttribute('fill'), stroke: await r.getAttribute('stroke'), width: (await r.boundingBox())?.width ?? 0,
        })));
      const kernel = await drawn('rect.phase-kernel-queue');
      const accepted = await drawn('rect.phase-accepted');
      const served = await drawn('rect.phase-served');
      expect(kernel).toHaveLength(3);
      expect(accepted).toHaveLength(1);
      expect(served).toHaveLength(4);
      for (const r of [...kernel, ...accepted, ...served]) expect(r.width).toBeGreaterThan(0);
      // three styles: a pattern that exists in the page, a white outline, a solid fill
      const pattern = /^url\(#(.+)\)$/.exec(kernel[0].fill ?? '')?.[1];
      expect(await page.locator(`svg.timeline pattern[id="${pattern}"]`).count()).toBe(1);
      expect(accepted[0]).toMatchObject({ fill: '#fff' });
      expect(accepted[0].stroke).not.toBeNull();
      expect(served[0].fill).toMatch(/^#[0-9a-f]{6}$/);
      expect(new Set([kernel[0].fill, accepted[0].fill, served[0].fill]).size).toBe(3);
      const legend = page.locator('svg.timeline .phase-legend');
      expect(await legend.isVisible()).toBe(true);
      const text = await legend.textContent();
      for (const item of ["in the kernel's accept queue", 'accepted, waiting for the server', 'served (from the first ack less the work delay)']) expect(text).toContain(item);
      // the legend's swatches are drawn in the same three styles
      expect(await legend.locator(`rect[fill="url(#${pattern})"]`).count()).toBe(1);
      expect(await legend.locator('rect[fill="#fff"]').count()).toBe(1);
    } finally {
      await loaded.page.close();
    }
  }, 60_000);

  browserTest('a real run of two reference servers renders without errors', async () => {
    const report = await realRun(['event-loop', 'single-process'], ['concurrency.timing', 'protocol.ack.lockstep']);
    for (const impl of report.implementations) expect(impl.cases.map((r) => r.outcome)).toEqual(['pass', 'pass']);
    const loaded = await load(renderHtmlReport(report), 'real.html');
    try {
      await expectRendered(loaded, report);
      for (const impl of report.implementations) await expect(loaded.page.locator(`#impl-${impl.name.replace('/', '-')} h2`).isVisible()).resolves.toBe(true);
    } finally {
      await loaded.page.close();
    }
  }, 180_000);
});

/** Runs these cases against these TypeScript reference servers, as `check` would, into a RunReport. */
async function realRun(models: ModelName[], caseIds: string[]): Promise<RunReport> {
  const delayMs = 100;
  const multiplier = resolveMultiplier();
  const cases = caseIds.map((id) => findCase(id)).filter((c): c is ConformanceCase => c !== undefined);
  expect(cases.map((c) => c.id)).toEqual(caseIds);
  const started = Date.now();
  const implementations: ImplementationReport[] = [];
  for (const model of models) {
    const spec = referenceTarget(model, 'ts', delayMs);
    if (!spec.available) throw new Error(`${spec.name} is missing from dist/: run "npm run build"`);
    const target = resolveTarget(spec);
    const results = await runSuite(target, cases, { deadlines: makeDeadlines(delayMs, multiplier) });
    implementations.push({ name: target.name, model: target.model, cmd: target.cmd, delayMs, limit: target.limit, cases: results });
  }
  return {
    tool: 'server-models',
    version: '0.1.0',
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    timeoutMultiplier: multiplier,
    implementations,
  };
}
