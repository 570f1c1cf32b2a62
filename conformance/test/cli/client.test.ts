import { createServer, Server, Socket } from 'node:net';
import { Writable } from 'node:stream';
import getPort = require('get-port');
import { clientCommand, CLIENT_HELP, parseClientArgs } from '../../cli/client';
import { formatOverall, groupWaves, listMs, serviceVerdict } from '../../cli/client-summary';
import { renderRow, renderTimeline, timelineLegend, timeStep } from '../../cli/client-timeline';
import { UsageError } from '../../flags';
import { makeDeadlines } from '../../harness/deadlines';
import { hasProcfs } from '../../harness/procfs';
import { launchTarget, LaunchedTarget, stopAllTargets } from '../../harness/launcher';
import { ModelName } from '../../harness/models';
import { SessionTrace } from '../../harness/session-trace';
import { resolveTarget } from '../../harness/target';
import { referenceTarget } from '../../reference';

afterAll(() => stopAllTargets());

/** A client's trace; its label plays no part in what is drawn or judged. */
const clientTrace = (fields: Omit<SessionTrace, 'label'>): SessionTrace => ({ label: 'c1', ...fields });

/** Lock-step traces: client i connects at 0 and gets its acks at the given times. */
function tracesWithAcks(...ackTimes: number[][]): SessionTrace[] {
  return ackTimes.map((acksAt) => clientTrace({ connectedAt: 0, acksAt }));
}

const SGR = /\x1b\[[0-9;]*m/; // a colour code; cursor movement codes do not end in "m"

describe('timeline rendering', () => {
  test('timeStep picks the smallest round step that fits the span', () => {
    expect(timeStep(0, 10)).toBe(1);
    expect(timeStep(635, 76)).toBe(10);
    expect(timeStep(999, 10)).toBe(100);
    expect(timeStep(1000, 10)).toBe(150); // 1000 ms itself needs an 11th column at 100 ms
    expect(timeStep(45_000, 70)).toBe(800);
    expect(timeStep(14, 10)).toBe(2); // 1.5 ms is no step: columns are whole milliseconds
  });

  test('a row: not connected, waiting, ack numbers, the end mark, then blank', () => {
    const trace = clientTrace({ connectedAt: 150, acksAt: [250, 450], endedAt: 460, outcome: 'fin' });
    // columns of 100 ms: the FIN shares ack 2's column, so it is drawn one column later
    expect(renderRow(trace, 100, 10, 700, false)).toBe('·─1─2|  ');
  });

  test('a row stops at "now" while the run goes on', () => {
    expect(renderRow(clientTrace({ connectedAt: 0, acksAt: [] }), 100, 10, 250, false)).toBe('───');
    expect(renderRow(clientTrace({ acksAt: [] }), 100, 10, 250, false)).toBe('···');
  });

  test('several acks in one column, or ack 10 and later, show as a block', () => {
    expect(renderRow(clientTrace({ connectedAt: 0, acksAt: [110, 150] }), 100, 10, 200, false)).toBe('─█─');
    const tenAcks = Array.from({ length: 10 }, (_, i) => (i + 1) * 100 + 50);
    expect(renderRow(clientTrace({ connectedAt: 0, acksAt: tenAcks }), 100, 20, 1100, false)).toBe('─123456789█─');
  });

  test('failures have their own end marks', () => {
    expect(renderRow(clientTrace({ connectedAt: 0, acksAt: [], endedAt: 300, outcome: 'timed-out' }), 100, 10, 500, false)).toBe('───T  ');
    expect(renderRow(clientTrace({ acksAt: [], endedAt: 0, outcome: 'no-connect' }), 100, 10, 200, false)).toBe('X  ');
    expect(renderRow(clientTrace({ connectedAt: 0, acksAt: [100], endedAt: 200, outcome: 'rst' }), 100, 10, 300, false)).toBe('─1R ');
  });

  test('serial service puts each client\'s acks after the previous client\'s; parallel ones line up', () => {
    const serial = renderTimeline(tracesWithAcks([100, 200], [300, 400], [500, 600]), { nowMs: 600, width: 40, color: false });
    const parallel = renderTimeline(tracesWithAcks([100, 200], [101, 201], [102, 202]), { nowMs: 210, width: 40, color: false });
    const firstAckColumn = (row: string): number => row.indexOf('1', 3);
    expect(serial).toHaveLength(4); // three rows and the axis
    expect(firstAckColumn(serial[0])).toBeLessThan(firstAckColumn(serial[1]));
    expect(firstAckColumn(serial[1])).toBeLessThan(firstAckColumn(serial[2]));
    expect(new Set(parallel.slice(0, 3).map(firstAckColumn)).size).toBe(1);
    expect(serial[3]).toMatch(/^ {3}0 ms +600 ms$/);
  });

  test('every line fits the width, with or without colour codes', () => {
    const traces = tracesWithAcks([100, 200], [300, 400], [500, 600]);
    for (const width of [40, 80, 200]) {
      const lines = [...renderTimeline(traces, { nowMs: 600, width, color: false }), ...timelineLegend(traces, 600, width)];
      for (const line of lines) expect(line.length).toBeLessThan(width);
    }
    expect(renderTimeline(traces, { nowMs: 600, width: 40, color: true }).join('\n')).toMatch(SGR);
  });

  test('the live view caps the rows and counts the rest', () => {
    const traces = tracesWithAcks(...Array.from({ length: 50 }, () => [100]));
    const lines = renderTimeline(traces, { nowMs: 200, width: 60, color: false, maxRows: 10 });
    expect(lines).toHaveLength(11);
    expect(lines[9]).toBe('… and 41 more clients (all of them in the summary)');
  });

  test('where acceptance is known: the kernel\'s accept queue, accepted and waiting, then served from the first ack less the work', () => {
    // accepted at 300 ms, acked at 600 ms, one message takes 200 ms: served from 400 ms
    const trace = clientTrace({ connectedAt: 0, acceptedAt: 300, acksAt: [600], endedAt: 610, outcome: 'fin' });
    expect(renderRow(trace, 100, 20, 800, false, 200)).toBe('░░░─━━1| ');
    // accepted at connect and served at once: no kernel queue, no wait
    expect(renderRow(clientTrace({ connectedAt: 0, acceptedAt: 0, acksAt: [200] }), 100, 20, 300, false, 200)).toBe('━━1━');
    // not acked yet: everything after acceptance is waiting
    expect(renderRow(clientTrace({ connectedAt: 100, acceptedAt: 200, acksAt: [] }), 100, 20, 400, false, 200)).toBe('·░───');
    // acceptance unknown: drawn as without the sampler
    expect(renderRow(clientTrace({ connectedAt: 0, acksAt: [600] }), 100, 20, 700, false, 200)).toBe('──────1─');
    expect(renderRow(trace, 100, 20, 800, true, 200)).toMatch(SGR);
  });

  test('the legend names the three phases only where acceptance is known', () => {
    const phased = timelineLegend([clientTrace({ connectedAt: 0, acceptedAt: 300, acksAt: [600] })], 800, 200).join('\n');
    expect(phased).toContain("░ in the kernel's accept queue");
    expect(phased).toContain('─ accepted, waiting for the server');
    expect(phased).toContain("━ served (from ack 1 less one message's work)");
    expect(phased).not.toContain('connected, waiting');
    const plain = timelineLegend([clientTrace({ connectedAt: 0, acksAt: [600] })], 800, 200).join('\n');
    expect(plain).toContain('─ connected, waiting');
    expect(plain).not.toMatch(/accept queue|served/);
  });

  test('the legend names the scale, and only the end marks that occur', () => {
    const legend = timelineLegend([clientTrace({ connectedAt: 0, acksAt: [], endedAt: 300, outcome: 'timed-out' })], 600, 80).join('\n');
    expect(legend).toMatch(/1 column = 10 ms/);
    expect(legend).toMatch(/T timed out/);
    expect(legend).not.toMatch(/R reset/);
  });
});

describe('verdict', () => {
  test('first acks within less than half a message apart: parallel', () => {
    const v = serviceVerdict(tracesWithAcks([100, 200], [101, 201], [102, 202]));
    expect(v.kind).toBe('parallel');
    expect(v.text).toBe('served in parallel (estimate): all 3 clients got their first ack 100..102 ms after connecting; one message takes about 100 ms');
  });

  test('first acks a message or more apart: one at a time', () => {
    const v = serviceVerdict(tracesWithAcks([2000, 4000], [6000, 8000], [10_000, 12_000]));
    expect(v.kind).toBe('one-at-a-time');
    expect(v.text).toBe('served one at a time (estimate): first acks 2000, 6000, 10000 ms after connecting; one message takes about 2000 ms');
  });

  test('groups of clients served together: waves', () => {
    const v = serviceVerdict(tracesWithAcks([100, 200], [101, 201], [300, 400], [302, 402]));
    expect(v.kind).toBe('in-waves');
    expect(v.text).toMatch(/^served up to 2 at a time \(estimate\): first acks in 2 waves, 100, 300 ms after connecting/);
  });

  test('connects delayed by a full backlog do not count as waiting for the server', () => {
    const traces: SessionTrace[] = [
      clientTrace({ connectedAt: 0, acksAt: [100, 200] }),
      clientTrace({ connectedAt: 1000, acksAt: [1100, 1200] }),
    ];
    expect(serviceVerdict(traces).kind).toBe('parallel');
  });

  test('one message per client: the quickest first ack after connecting is the work time', () => {
    const traces: SessionTrace[] = [
      clientTrace({ connectedAt: 5, acksAt: [105] }),
      clientTrace({ connectedAt: 5, acksAt: [205] }),
    ];
    expect(serviceVerdict(traces).kind).toBe('one-at-a-time');
  });

  test('too little to compare: unknown, and clients without an ack are counted', () => {
    expect(serviceVerdict(tracesWithAcks([100])).kind).toBe('unknown');
    expect(serviceVerdict([clientTrace({ acksAt: [] })]).text).toBe('cannot tell serial from parallel: no client got an ack');
    expect(serviceVerdict([...tracesWithAcks([100], [300]), clientTrace({ connectedAt: 0, acksAt: [] })]).text).toMatch(/; 1 of 3 clients got no ack$/);
  });

  test('helpers: waves by tolerance, long lists elided', () => {
    expect(groupWaves([1, 2, 50, 51, 200], 10)).toEqual([[1, 2], [50, 51], [200]]);
    expect(listMs([1, 2, 3])).toBe('1, 2, 3 ms');
    expect(listMs(Array.from({ length: 100 }, (_, i) => i))).toBe('0, 1, 2, 3, 4, … (94 more), 99 ms');
  });

  test('the overall line counts what went wrong', () => {
    const traces: SessionTrace[] = [
      clientTrace({ connectedAt: 0, acksAt: [100], endedAt: 110, outcome: 'fin' }),
      clientTrace({ connectedAt: 0, acksAt: [], endedAt: 300, outcome: 'timed-out' }),
      clientTrace({ connectedAt: 0, acksAt: [100], endedAt: 110, outcome: 'rst' }),
    ];
    expect(formatOverall(traces, { messages: 1, goodbye: true, timeoutMs: 300 }, 320)).toBe(
      'total 320 ms: 1 of 3 clients got all 1 acks and a FIN after goodbye (1 timed out, 1 RST after goodbye)',
    );
  });
});

describe('flags', () => {
  test('defaults', () => {
    expect(parseClientArgs(['--port', '4000'])).toEqual({
      host: '127.0.0.1', port: 4000, clients: 5, messages: 5, text: 'hello', goodbye: false, timeoutMs: 30_000,
    });
  });

  test.each([
    [[], /--port is required/],
    [['--port', '70000'], /--port must be at most 65535/],
    [['--port', '4000', '--clients', '1001'], /--clients must be at most 1000/],
    [['--port', '4000', '--clients', '0'], /--clients must be an integer ≥ 1/],
    [['--port', '4000', '--messages', '10001'], /--messages must be at most 10000/],
    [['--port', '4000', '--text', 'a\x03b'], /--text must be printable ASCII/],
    [['--port', '4000', '--text', 'goodbye'], /use --goodbye/],
    [['--port', '4000', '--bogus'], /--bogus/],
    [['--unix', '/run/x.sock', '--port', '4000'], /--unix cannot go with --port or --host/],
  ])('%j is a usage error', (args, message) => {
    expect(() => parseClientArgs(args)).toThrow(UsageError);
    expect(() => parseClientArgs(args)).toThrow(message);
  });

  test('--help prints the help and exits 0', async () => {
    const out = capture('stdout');
    try {
      expect(await clientCommand(['--help'])).toBe(0);
    } finally {
      out.restore();
    }
    expect(out.text()).toBe(`${CLIENT_HELP}\n`);
  });
});

/** Captures what is written to process.stdout or process.stderr until restored. */
function capture(name: 'stdout' | 'stderr'): { text(): string; restore(): void } {
  let text = '';
  const spy = jest.spyOn(process[name], 'write').mockImplementation((chunk: string | Uint8Array): boolean => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  });
  return { text: () => text, restore: () => spy.mockRestore() };
}

interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command with stdout and stderr captured (neither is a TTY under Jest). */
async function runClient(...args: string[]): Promise<CommandRun> {
  const stdout = capture('stdout');
  const stderr = capture('stderr');
  try {
    const code = await clientCommand(args);
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  } finally {
    stdout.restore();
    stderr.restore();
  }
}

// The estimate tells waves apart at half a work delay: 200 ms, like the suites, so servers starting side
// by side in other test files cannot spread parallel first acks into two waves.
const DELAY_MS = 200;

function startReference(model: ModelName): Promise<LaunchedTarget> {
  return launchTarget(resolveTarget(referenceTarget(model, 'ts', DELAY_MS)), makeDeadlines(DELAY_MS, 1));
}

const noStackTrace = (text: string): void => expect(text).not.toMatch(/\n\s+at /);
const summaryRows = (stdout: string): string[] => stdout.split('\n').filter((l) => /^c\d+ +\d+ ms +/.test(l));

describe('against a reference server', () => {
  let eventLoop: LaunchedTarget;
  let singleProcess: LaunchedTarget;
  beforeAll(async () => {
    [eventLoop, singleProcess] = await Promise.all([startReference('event-loop'), startReference('single-process')]);
  });

  test('event-loop: all clients served in parallel, exit 0, the final picture once', async () => {
    const r = await runClient('--port', String(eventLoop.port), '--clients', '3', '--messages', '2');
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(/\x1b\[/); // not a TTY: no animation, no colour
    expect(r.stdout.match(/^c1 [·─━]/gm)).toHaveLength(1);
    expect(r.stdout).toMatch(/^served in parallel \(estimate\): all 3 clients got their first ack \d+(\.\.\d+)? ms after connecting/m);
    expect(r.stdout).toMatch(/^total \d+ ms: 3 of 3 clients got all 2 acks$/m);
    const rows = summaryRows(r.stdout);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/\d+, \d+ ms +closed by client at \d+ ms$/);
  });

  test('single-process: one client at a time', async () => {
    const r = await runClient('--port', String(singleProcess.port), '--clients', '3', '--messages', '2');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^served one at a time \(estimate\): first acks \d+, \d+, \d+ ms after connecting/m);
  });

  // A server on this machine shares our TCP tables: the command sees where each client waited.
  (hasProcfs() ? test : test.skip)('a server on loopback: TypeScript single-process accepts all three at once and queues them itself', async () => {
    const r = await runClient('--port', String(singleProcess.port), '--clients', '3', '--messages', '1', '--goodbye');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('─ accepted, waiting for the server');
    expect(r.stdout).toMatch(/^accept queue: 0 of 3 sessions waited in the kernel's accept queue; listen queue peaked at [01]$/m);
    // the third client: accepted at once, then waiting (─) until it is served (━), its ack, the FIN
    expect(r.stdout).toMatch(/^c3 ·*━*─+━+1━*\|$/m);
  });

  test('--goodbye: the summary shows the FIN of every client', async () => {
    const r = await runClient('--port', String(singleProcess.port), '--clients', '3', '--messages', '2', '--goodbye');
    expect(r.code).toBe(0);
    const rows = summaryRows(r.stdout);
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatch(/FIN from server at \d+ ms$/);
    expect(r.stdout).toMatch(/^total \d+ ms: 3 of 3 clients got all 2 acks and a FIN after goodbye$/m);
  });

  test('a terminal gets a live view redrawn in place, without colour under NO_COLOR', async () => {
    const saved = process.env.NO_COLOR;
    process.env.NO_COLOR = '1';
    const term = new FakeTerminal();
    try {
      const code = await clientCommand(['--port', String(eventLoop.port), '--clients', '2', '--messages', '2'], { out: term.stream, err: term.stream });
      expect(code).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.NO_COLOR;
      else process.env.NO_COLOR = saved;
    }
    expect(term.text).toMatch(/\x1b\[\d+A/); // moved back up over the previous frame
    expect(term.text).toMatch(/\x1b\[\?25l[^]*\x1b\[\?25h/); // cursor hidden, then shown again
    expect(term.text).not.toMatch(SGR);
    expect(term.text).toMatch(/served in parallel/);
  });

  test('a terminal without NO_COLOR gets colour', async () => {
    const saved = process.env.NO_COLOR;
    delete process.env.NO_COLOR;
    const term = new FakeTerminal();
    try {
      await clientCommand(['--port', String(eventLoop.port), '--clients', '2', '--messages', '1'], { out: term.stream, err: term.stream });
    } finally {
      if (saved !== undefined) process.env.NO_COLOR = saved;
    }
    expect(term.text).toMatch(SGR);
  });

  // last against single-process: it leaves the server with clients that gave up
  test('a client waiting its turn behind others is not timed out while they get acks', async () => {
    // Serial service: client 3 waits ~400 ms for its first ack, far beyond --timeout-ms 250.
    const r = await runClient('--port', String(singleProcess.port), '--clients', '3', '--messages', '2', '--timeout-ms', '250');
    expect(r.stdout).toMatch(/^total \d+ ms: 3 of 3 clients got all 2 acks$/m);
    expect(r.code).toBe(0);
  });

  test('no ack to any client for --timeout-ms: reported as timed out, exit 1', async () => {
    // The server takes 100 ms per message: 40 ms without any ack ends the run. (Runs last here: the
    // abandoned sessions keep the serial server busy for a while.)
    const r = await runClient('--port', String(singleProcess.port), '--clients', '3', '--messages', '2', '--timeout-ms', '40');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^c3 +\d+ ms +- +timed out: no ack 1 within 40 ms$/m);
    expect(r.stdout).toMatch(/^total \d+ ms: 0 of 3 clients got all 2 acks \(3 timed out\)$/m);
  });
});

/** A one-off server in this process, answering each connection's first bytes with `answer`. */
async function misbehavingServer(answer: (socket: Socket) => void): Promise<{ port: number; server: Server }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined); // the client closing on us is expected
    socket.once('data', () => answer(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return { port: address.port, server };
}

describe('over a Unix socket', () => {
  test('--unix PATH: the clients connect to the path; the summary shows every FIN (the end of file)', async () => {
    const server = await launchTarget(resolveTarget(referenceTarget('event-loop', 'ts', DELAY_MS, undefined, 'unix')), makeDeadlines(DELAY_MS, 1));
    const path = server.endpoint.path as string;
    const r = await runClient('--unix', path, '--clients', '2', '--messages', '1', '--goodbye');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`× 1 message "hello" to ${path}, then goodbye`);
    expect(r.stdout).toMatch(/^total \d+ ms: 2 of 2 clients got all 1 acks and a FIN after goodbye$/m);
    await server.stop();
    const gone = await runClient('--unix', path, '--clients', '1', '--messages', '1');
    expect(gone.code).toBe(2);
    expect(gone.stderr).toBe(`server-models: cannot connect to ${path}: no such socket file (is a server listening there?)\n`);
  });
});

describe('connection errors', () => {
  test('a port nobody listens on: one clear line, exit 2', async () => {
    const port = await getPort({ host: '127.0.0.1' });
    const r = await runClient('--port', String(port), '--clients', '2', '--messages', '1');
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`server-models: cannot connect to 127.0.0.1:${port}: connection refused (is a server listening there?)\n`);
    noStackTrace(r.stderr);
  });

  test('a server that resets the connection: RST in the summary, exit 1', async () => {
    const { port, server } = await misbehavingServer((socket) => socket.resetAndDestroy());
    try {
      const r = await runClient('--port', String(port), '--clients', '2', '--messages', '2');
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^c2 +\d+ ms +- +RST from server at \d+ ms after 0 of 2 acks$/m);
      expect(r.stdout).toMatch(/\(2 RST before the last ack\)$/m);
    } finally {
      server.close();
    }
  });

  test('a server that answers something else than ack: a bad reply, exit 1', async () => {
    const { port, server } = await misbehavingServer((socket) => socket.write('nak'));
    try {
      const r = await runClient('--port', String(port), '--clients', '1', '--messages', '2', '--timeout-ms', '5000');
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^c1 +\d+ ms +- +unexpected reply "nak" at \d+ ms after 0 of 2 acks$/m);
    } finally {
      server.close();
    }
  });
});

/** A writable that says it is a 60×20 terminal and keeps what was written. */
class FakeTerminal {
  text = '';
  readonly stream: NodeJS.WriteStream;
  constructor() {
    const writable = new Writable({
      write: (chunk: Buffer, _encoding, done): void => {
        this.text += chunk.toString('utf8');
        done();
      },
    });
    this.stream = Object.assign(writable, { isTTY: true, columns: 60, rows: 20 }) as unknown as NodeJS.WriteStream;
  }
}
