import fc from 'fast-check';
import { ProtocolClient } from '../../harness/client';
import { frame } from '../../harness/framing';
import { Deadlines, makeDeadlines, pollUntil, resolveMultiplier, waitUntilSettled } from '../../harness/deadlines';
import { launchTarget, LaunchedTarget, stopAllTargets } from '../../harness/launcher';
import { REFERENCE_MODELS } from '../../harness/models';
import { resolveTarget } from '../../harness/target';
import { sampleTree, TreeSample } from '../../harness/tree-probe';
import { Language, referenceTarget } from '../../reference';
import { expectSession } from './session-model';
import { RUNS_LONG } from '../tier';
import { mutantCommand, mutants } from '../../../fixtures/mutants/catalogue';

/**
 * Random byte streams against every reference server: random message contents (ASCII and not),
 * ETX anywhere, "goodbye" and near-misses, random splits into writes, and every way a client can
 * leave (goodbye, half-close, full close, reset). The answer must be what the protocol says, and the
 * server's sockets, processes and zombies must return to their baseline afterwards.
 */
// The quick tier runs a short fuzz; the long tier (npm run test:long / test:full) the long one.
const FULL = RUNS_LONG;
const RUNS = Number(process.env.SM_FUZZ_RUNS ?? (FULL ? 100 : 20));
const TIME_LIMIT_MS = (FULL ? 20_000 : 5_000) * resolveMultiplier();

const token = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: fc.constantFrom(...'abcxyz 0123456789goodbyeGOODBYE!'.split('')), maxLength: 24 }).map((s) => frame(s)) },
  { weight: 1, arbitrary: fc.constant(frame('goodbye')) },
  { weight: 1, arbitrary: fc.constantFrom(frame('goodbyeX'), frame(' goodbye'), frame('GOODBYE'), frame('goodbye ')) },
  { weight: 1, arbitrary: fc.constant(frame('')) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 16 }).map((bytes) => Buffer.from(bytes.filter((x) => x !== 0x03))) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 4096 }).map((n) => frame('m'.repeat(n))) },
);

const session = fc.record({
  stream: fc.array(token, { maxLength: 40 }).map((parts) => Buffer.concat(parts)),
  cuts: fc.array(fc.integer({ min: 1, max: 512 }), { maxLength: 16 }),
  ending: fc.constantFrom('half-close' as const, 'full-close' as const, 'reset' as const),
});

type SessionScript = { stream: Buffer; cuts: number[]; ending: 'half-close' | 'full-close' | 'reset' };

function split(stream: Buffer, cuts: number[]): Buffer[] {
  const chunks: Buffer[] = [];
  let at = 0;
  for (const cut of cuts) {
    if (at >= stream.length) break;
    chunks.push(stream.subarray(at, at + cut));
    at += cut;
  }
  if (at < stream.length) chunks.push(stream.subarray(at));
  return chunks;
}

interface Totals {
  sessions: number;
  bytes: number;
}

/** Plays one session and checks the answer; an assertion failure makes fast-check shrink the script. */
async function playSession(server: LaunchedTarget, d: Deadlines, s: SessionScript, totals: Totals): Promise<void> {
  const client = await ProtocolClient.connect(server.host, server.port, d.connect());
  totals.sessions++;
  try {
    for (const chunk of split(s.stream, s.cuts)) {
      if (client.ending) break;
      await client.write(chunk);
      totals.bytes += chunk.length;
    }
    const expected = expectSession(s.stream);
    if (s.ending === 'reset') return client.reset();
    if (s.ending === 'full-close' && !expected.goodbye) return client.close();
    if (!expected.goodbye) client.endWriting();
    const ending = await client.waitForClose(d.ack(expected.acks + 1) + d.close());
    const acks = 'ack'.repeat(expected.acks);
    if (expected.nonAscii) {
      // bytes ≥ 0x80 may be refused with a close: then fewer acks (never fewer than the messages
      // before that one were owed), and never anything else
      expect(acks.startsWith(client.text)).toBe(true);
      // A server that closes with bytes still unread (the rest of a refused message, or bytes after
      // goodbye) resets, and the RST discards acks the client has not read yet: no lower bound then.
      if (ending.kind !== 'rst') expect(client.text.length / 3).toBeGreaterThanOrEqual(expected.acksBeforeNonAscii);
      if (client.text !== acks || expected.goodbye) expect(ending.kind).not.toBe('open');
    } else if (expected.bytesAfterGoodbye) {
      // Bytes sent after goodbye meet a closed socket, and its RST may discard acks the client has
      // not read yet (a write error also makes Node drop the socket): a prefix, then FIN or RST.
      expect(acks.startsWith(client.text)).toBe(true);
      expect(['fin', 'rst']).toContain(ending.kind);
    } else {
      expect({ received: client.text, close: ending.kind }).toEqual({ received: acks, close: 'fin' });
    }
  } finally {
    client.close();
  }
}

function settledCounts(t: TreeSample) {
  return {
    connections: t.tcpSockets.filter((s) => s.row.state !== 'LISTEN').length,
    processes: t.processes.length,
    zombies: t.zombies.length,
  };
}

afterAll(() => stopAllTargets());

const servers = (['ts', 'c'] as Language[]).flatMap((lang) => REFERENCE_MODELS.map((model) => referenceTarget(model, lang, 0)));
const totals: Record<string, Totals> = {};

afterAll(() => {
  const lines = Object.entries(totals).map(([name, t]) => `${name}: ${t.sessions} sessions, ${t.bytes} bytes`);
  process.stdout.write(`protocol fuzz (${RUNS} runs per server):\n  ${lines.join('\n  ')}\n`);
});

describe('protocol fuzz: random streams, splits and endings', () => {
  for (const spec of servers) {
    if (!spec.available) {
      test.skip(`${spec.name}: not built here (no C compiler?)`, () => undefined);
      continue;
    }
    test(`${spec.name}: answers follow the protocol; sockets, processes and zombies return to baseline`, async () => {
      const d = makeDeadlines(0, resolveMultiplier());
      const server = await launchTarget(resolveTarget(spec), d);
      const t: Totals = (totals[spec.name] = { sessions: 0, bytes: 0 });
      // Baseline after one ordinary session: pools and lazily created workers exist by then.
      await playSession(server, d, { stream: frame('warm-up'), cuts: [], ending: 'half-close' }, t);
      await pollUntil(() => settledCounts(sampleTree(server)).connections === 0, d.close());
      // The child that served the warm-up may still be exiting after its socket is gone: the baseline
      // is the count once it has stopped changing, as in the resources.* cases.
      const settledKey = () => JSON.stringify(settledCounts(sampleTree(server)));
      const baseline = JSON.parse(await waitUntilSettled(settledKey, d.quiet(), d.slack() * 3)) as ReturnType<typeof settledCounts>;
      await fc.assert(
        fc.asyncProperty(session, (s) => playSession(server, d, s, t)),
        { numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
      );
      // Still serving, and back to baseline once the last sessions are gone.
      await playSession(server, d, { stream: frame('after the fuzz'), cuts: [], ending: 'half-close' }, t);
      let now = settledCounts(sampleTree(server));
      // At or under the baseline, as resources.* judge it (a pool that lost workers is their concern).
      const backToBaseline = () => now.connections <= baseline.connections && now.processes <= baseline.processes && now.zombies === 0;
      await pollUntil(() => {
        now = settledCounts(sampleTree(server));
        return backToBaseline();
      }, d.close() * 2);
      expect(now.connections).toBeLessThanOrEqual(baseline.connections);
      expect(now.processes).toBeLessThanOrEqual(baseline.processes);
      expect(now.zombies).toBe(0);
      await server.stop();
    });
  }
});

describe('protocol fuzz: can fail', () => {
  test.each(['ack-per-read', 'goodbye-prefix', 'drops-empty-message'])('it finds the bug of the %s mutant', async (name) => {
    const mutant = mutants.find((m) => m.name === name && m.lang === 'ts');
    if (!mutant) throw new Error(`no mutant ${name}`);
    const d = makeDeadlines(0, resolveMultiplier());
    const server = await launchTarget(resolveTarget({ name, cmd: mutantCommand(mutant), model: mutant.model, delayMs: 0 }), d);
    const t: Totals = { sessions: 0, bytes: 0 };
    // A fixed seed: the same scripts every time, so whether the bug is found does not depend on luck.
    const result = await fc.check(fc.asyncProperty(session, (s) => playSession(server, d, s, t)), {
      seed: 20261122,
      numRuns: 200,
      interruptAfterTimeLimit: 3 * TIME_LIMIT_MS,
    });
    expect({ failed: result.failed, interrupted: result.interrupted, runs: result.numRuns, sessions: t.sessions }).toMatchObject({ failed: true });
    await server.stop();
  });
});
