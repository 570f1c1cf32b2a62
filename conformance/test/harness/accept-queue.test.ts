import { existsSync } from 'node:fs';
import { findCase } from '../../cases';
import { ConformanceCase } from '../../cases/types';
import { sampleAcceptQueue, SAMPLE_INTERVAL_MS } from '../../harness/accept-queue';
import { closeAll, ProtocolClient } from '../../harness/client';
import { makeDeadlines, resolveMultiplier } from '../../harness/deadlines';
import { launchTarget, stopAllTargets } from '../../harness/launcher';
import { hasPool, ModelName } from '../../harness/models';
import { hasProcfs } from '../../harness/procfs';
import { resolveTarget, Target } from '../../harness/target';
import { Language, referenceCommand, referenceServerPath } from '../../reference';
import { runSuite } from '../../runner';

// Where each reference model keeps the clients beyond its limit, seen in the kernel's TCP tables: the
// kernel's accept queue, or accepted and queued by the server itself.

const DELAY_MS = 250;
/** A pool of two keeps limit + 3 clients to three waves. */
const WORKERS = 2;
const multiplier = resolveMultiplier();
const deadlines = makeDeadlines(DELAY_MS, multiplier);
/** How late a sample can place an event: an interval, and a turn of a busy event loop. */
const SAMPLING_SLACK_MS = 2 * SAMPLE_INTERVAL_MS + 30;

afterAll(() => stopAllTargets());

/** One client's session: ms since the first connect. */
interface Seen {
  connectedAt: number;
  acceptedAt?: number;
  ackAt: number;
}

interface Observation {
  sessions: Seen[];
  /** [ms since the first connect, length] */
  listenQueue: [number, number][];
}

function target(model: ModelName, lang: Language, host?: string): Target {
  const cmd = `${referenceCommand(model, lang)}${host ? ` --host ${host}` : ''}`;
  return resolveTarget({ name: `${lang}/${model}`, cmd, model, delayMs: DELAY_MS, workers: hasPool(model) ? WORKERS : undefined, readyLine: true, host });
}

/**
 * Starts the server, connects limit + 3 clients one after another, then each sends one message and
 * goodbye; samples the accept queue until every session ended.
 */
async function observe(t: Target): Promise<Observation> {
  const server = await launchTarget(t, deadlines);
  const limit = t.limit === 'unbounded' ? 1 : t.limit;
  const sampler = sampleAcceptQueue(server.port);
  if (!sampler) throw new Error('no /proc');
  const clients: ProtocolClient[] = [];
  try {
    for (let i = 0; i < limit + 3; i++) clients.push(await ProtocolClient.connect(server.host, server.port, deadlines.connect()));
    await Promise.all(clients.map((c, i) => c.write(Buffer.from(`m${i + 1}\x03goodbye\x03`, 'latin1'))));
    await Promise.all(clients.map((c) => c.waitForClose(deadlines.ack(limit + 3))));
  } finally {
    sampler.stop();
    closeAll(clients);
    await server.stop();
  }
  const origin = clients[0].connectedAt;
  const sessions = clients.map((c) => {
    const acceptedAt = sampler.acceptedAt(c.localPort, c.connectedAt);
    const ackAt = c.ackTimes()[0];
    if (ackAt === undefined) throw new Error(`${t.name}: a client got no ack (${c.text})`);
    return { connectedAt: c.connectedAt - origin, acceptedAt: acceptedAt === undefined ? undefined : acceptedAt - origin, ackAt: ackAt - origin };
  });
  return { sessions: sessions.sort((a, b) => a.ackAt - b.ackAt), listenQueue: sampler.listenQueue.map(([at, n]) => [at - origin, n]) };
}

const waitedInKernel = (s: Seen): number => (s.acceptedAt as number) - s.connectedAt;
const waitedAccepted = (s: Seen): number => s.ackAt - (s.acceptedAt as number);

/** The listen queue's length at `ms`. */
function listenQueueAt(series: [number, number][], ms: number): number {
  let length = 0;
  for (const [at, n] of series) if (at <= ms) length = n;
  return length;
}

const built = (model: ModelName, lang: Language): boolean => existsSync(referenceServerPath(model, lang));
/** A test that needs /proc and the reference server built (the C ones need a compiler). */
function serverTest(name: string, model: ModelName, lang: Language, body: () => Promise<void>): void {
  const ready = hasProcfs() && built(model, lang);
  (ready ? test : test.skip)(ready ? name : `${name}: needs /proc and ${lang}/${model} built`, body, 60_000);
}

/** C single-process: each waiting client stays in the kernel until the one before it is done. */
function expectKernelQueueOneByOne(o: Observation): void {
  expect(o.sessions.every((s) => s.acceptedAt !== undefined)).toBe(true);
  o.sessions.forEach((s, i) => {
    if (i === 0) {
      expect(waitedInKernel(s)).toBeLessThan(DELAY_MS / 2);
      return;
    }
    // accepted only once the session before it had its ack, after i whole works at least
    expect(s.acceptedAt).toBeGreaterThanOrEqual(o.sessions[i - 1].ackAt - SAMPLING_SLACK_MS);
    expect(waitedInKernel(s)).toBeGreaterThanOrEqual(i * DELAY_MS - SAMPLING_SLACK_MS);
    // then served at once: accepted, its ack one work later
    expect(waitedAccepted(s)).toBeLessThan(1.5 * DELAY_MS);
    // the LISTEN row counted it while it waited
    expect(listenQueueAt(o.listenQueue, (s.connectedAt + (s.acceptedAt as number)) / 2)).toBeGreaterThanOrEqual(1);
  });
  expect(Math.max(...o.listenQueue.map(([, n]) => n))).toBeGreaterThanOrEqual(2);
}

describe('where the clients beyond the limit wait, on the reference servers', () => {
  serverTest('C single-process keeps the waiting clients in the kernel\'s accept queue, each until the one before is done', 'single-process', 'c', async () => {
    expectKernelQueueOneByOne(await observe(target('single-process', 'c')));
  });

  serverTest('over IPv6 (::1) too', 'single-process', 'c', async () => {
    expectKernelQueueOneByOne(await observe(target('single-process', 'c', '::1')));
  });

  serverTest('TypeScript single-process accepts everyone at once and keeps them in its own queue, acks one delay apart', 'single-process', 'ts', async () => {
    const o = await observe(target('single-process', 'ts'));
    for (const s of o.sessions) expect(waitedInKernel(s)).toBeLessThan(DELAY_MS / 2);
    o.sessions.forEach((s, i) => {
      if (i === 0) return;
      expect(s.ackAt - o.sessions[i - 1].ackAt).toBeGreaterThanOrEqual(0.8 * DELAY_MS);
      // accepted at connect, acked only after the i sessions before it: i works in the server's queue
      expect(waitedAccepted(s)).toBeGreaterThanOrEqual((i + 0.8) * DELAY_MS);
    });
    // the accept queue is empty long before the first session is done (on a busy machine Node may take
    // a moment to accept them all)
    expect(listenQueueAt(o.listenQueue, o.sessions[0].ackAt)).toBe(0);
  });

  serverTest(`a C thread pool of ${WORKERS} accepts beyond its size and queues the others itself`, 'thread-pool', 'c', async () => {
    const o = await observe(target('thread-pool', 'c'));
    for (const s of o.sessions) expect(waitedInKernel(s)).toBeLessThan(DELAY_MS / 2);
    // the three beyond the pool: accepted at connect, served a wave or two later
    for (const s of o.sessions.slice(WORKERS)) expect(waitedAccepted(s)).toBeGreaterThanOrEqual(1.6 * DELAY_MS);
  });

  serverTest(`C prefork with ${WORKERS} workers leaves the others in the kernel's accept queue until a worker is free`, 'prefork', 'c', async () => {
    const o = await observe(target('prefork', 'c'));
    const firstAck = o.sessions[0].ackAt;
    for (const s of o.sessions.slice(0, WORKERS)) expect(waitedInKernel(s)).toBeLessThan(DELAY_MS / 2);
    for (const s of o.sessions.slice(WORKERS)) {
      // accepted only once a worker finished a session, then served at once
      expect(s.acceptedAt).toBeGreaterThanOrEqual(firstAck - SAMPLING_SLACK_MS);
      expect(waitedInKernel(s)).toBeGreaterThanOrEqual(0.8 * DELAY_MS);
      expect(waitedAccepted(s)).toBeLessThan(1.5 * DELAY_MS);
    }
  });

  serverTest('a case that samples the accept queue puts acceptedAt in its sessions and the listen queue in its result', 'single-process', 'c', async () => {
    const timing = findCase('concurrency.timing') as ConformanceCase;
    const [result] = await runSuite(target('single-process', 'c'), [timing], { deadlines });
    expect(result.outcome).toBe('pass');
    const [first, second] = result.sessions ?? [];
    // accepted no earlier than it connected (the sampler saw its server-side row)
    expect(first.acceptedAt).toBeGreaterThanOrEqual(first.connectedAt as number);
    // the second of L + 1 = 2 timed clients waits in the kernel while the first does its three messages
    expect((second.acceptedAt as number) - (second.connectedAt as number)).toBeGreaterThanOrEqual(2 * DELAY_MS);
    expect(result.listenQueue?.some(([, n]) => n >= 1)).toBe(true);
    // (the first may wait a little too, on a busy machine)
    expect(result.evidence?.acceptQueue).toMatch(/^[12] of 2 sessions waited in the kernel's accept queue \(longest \d+ ms\); listen queue peaked at [12]$/);
  });
});
