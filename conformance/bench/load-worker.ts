/**
 * One thread of the closed-loop load generator: holds its share of the connections, keeps `pipeline`
 * messages in flight on each, and records the latency of every ack in the measuring window.
 */
import { connect, Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import * as hdr from 'hdr-histogram-js';
import { GoMessage, LoadWorkerConfig, WorkerToMain } from './load-protocol';

const config = workerData as LoadWorkerConfig;
const port = parentPort;
if (!port) throw new Error('load-worker must run in a worker thread');
const MESSAGE = Buffer.from('x\u0003');
const WARMUP_EXTENSION_MS = 15_000;
const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });

let measuring = false;
let started = 0;
let lastStartAt = 0;
let stopped = false;
let acks = 0;
let errors = 0;
let firstError: string | undefined;

function post(message: WorkerToMain): void {
  port?.postMessage(message);
}

/**
 * Every socket of this thread reads into this one buffer (net's `onread`): the generator only counts
 * ack bytes, and skipping a fresh Buffer and a stream 'data' event per read more than halves its
 * user-space CPU per ack.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

interface Flow {
  socket: Socket;
  /** has had at least one ack (its session has really started: a process or thread may be behind it) */
  started: boolean;
  /** send times (performance.now()) of messages not yet acked: a ring of `pipeline` slots */
  sentAt: Float64Array;
  /** ring index of the oldest message not yet acked */
  oldest: number;
  /** bytes of an ack received so far (acks may arrive split) */
  partial: number;
}

/** Sends one message; `now` is the caller's clock reading (one reading serves a whole read). */
function send(flow: Flow, slot: number, now: number): void {
  flow.sentAt[slot] = now;
  flow.socket.write(MESSAGE);
}

function onRead(flow: Flow, nread: number): void {
  let bytes = flow.partial + nread;
  const now = performance.now();
  if (bytes >= 3 && !flow.started) {
    flow.started = true;
    started++;
    lastStartAt = now;
  }
  const slots = flow.sentAt.length;
  while (bytes >= 3) {
    bytes -= 3;
    // Closed loop: the acked message's slot is reused by the message sent in its place.
    const slot = flow.oldest;
    flow.oldest = slot + 1 === slots ? 0 : slot + 1;
    if (measuring) {
      acks++;
      histogram.recordValue(Math.max(1, Math.round((now - flow.sentAt[slot]) * 1000)));
    }
    if (!stopped) send(flow, slot, now);
  }
  flow.partial = bytes;
}

function open(): Promise<Flow> {
  return new Promise((resolve, reject) => {
    // The read callback runs only after connect() has returned, so `flow` exists by then.
    const socket = connect({
      host: config.host,
      port: config.port,
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (nread: number) => { onRead(flow, nread); return true; } },
    });
    const flow: Flow = { socket, started: false, sentAt: new Float64Array(config.pipeline), oldest: 0, partial: 0 };
    const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${config.connectTimeoutMs} ms`)), config.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(flow);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (!stopped) {
        errors++;
        firstError ??= err.message;
      }
      reject(err);
    });
    socket.on('close', () => {
      if (!stopped && socket.readyState !== 'opening') {
        errors++;
        firstError ??= 'the server closed a connection during the run';
      }
    });
  });
}

async function main(): Promise<void> {
  const flows: Flow[] = [];
  try {
    // Connect in batches: a thousand SYNs at once overflow a small accept queue.
    for (let i = 0; i < config.connections; i += 100) {
      const batch = Math.min(100, config.connections - i);
      flows.push(...(await Promise.all(Array.from({ length: batch }, () => open()))));
    }
  } catch (err) {
    stopped = true;
    for (const f of flows) f.socket.destroy();
    post({ type: 'connect-failed', error: (err as Error).message });
    return;
  }
  post({ type: 'connected', connections: flows.length });
  port?.once('message', (go: GoMessage) => {
    const begin = performance.now();
    lastStartAt = begin;
    for (const f of flows) for (let k = 0; k < config.pipeline; k++) send(f, k, begin);
    const progress = setInterval(() => post({ type: 'progress', acks }), 250);
    const finish = (measureStart: number): void => {
      measuring = false;
      stopped = true;
      const measuredMs = performance.now() - measureStart;
      clearInterval(progress);
      for (const f of flows) f.socket.destroy();
      post({ type: 'done', acks, errors, firstError, measuredMs, histogram: hdr.encodeIntoCompressedBase64(histogram) });
    };
    // Warm-up lasts at least warmupMs, and then until every connection has had its first ack (a
    // server that starts a process per connection needs the time) or first acks stop coming for a
    // second (a bounded model leaves the rest waiting), at most WARMUP_EXTENSION_MS more.
    const warm = setInterval(() => {
      const now = performance.now();
      const settled = started === flows.length || now - lastStartAt >= 1000 || now - begin >= go.warmupMs + WARMUP_EXTENSION_MS;
      if (now - begin < go.warmupMs || !settled) return;
      clearInterval(warm);
      measuring = true;
      setTimeout(() => finish(now), go.measureMs);
    }, 20);
  });
}

void main();
