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

interface Flow {
  socket: Socket;
  /** has had at least one ack (its session has really started: a process or thread may be behind it) */
  started: boolean;
  /** send times (performance.now()) of messages not yet acked, oldest first */
  inFlight: number[];
  /** bytes of an ack received so far (acks may arrive split) */
  partial: number;
}

function send(flow: Flow): void {
  flow.inFlight.push(performance.now());
  flow.socket.write(MESSAGE);
}

function onData(flow: Flow, chunk: Buffer): void {
  let bytes = flow.partial + chunk.length;
  const now = performance.now();
  if (bytes >= 3 && !flow.started) {
    flow.started = true;
    started++;
    lastStartAt = now;
  }
  while (bytes >= 3) {
    bytes -= 3;
    const sentAt = flow.inFlight.shift();
    if (measuring && sentAt !== undefined) {
      acks++;
      histogram.recordValue(Math.max(1, Math.round((now - sentAt) * 1000)));
    }
    if (!stopped) send(flow);
  }
  flow.partial = bytes;
}

function open(): Promise<Flow> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: config.host, port: config.port, noDelay: true });
    const flow: Flow = { socket, started: false, inFlight: [], partial: 0 };
    const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${config.connectTimeoutMs} ms`)), config.connectTimeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(flow);
    });
    socket.on('data', (chunk: Buffer) => onData(flow, chunk));
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
    for (const f of flows) for (let k = 0; k < config.pipeline; k++) send(f);
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
