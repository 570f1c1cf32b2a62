import { readFileSync } from 'node:fs';
import { hasProcfs, parseTcpRowsOfPort, TcpRow } from './procfs';
import { SessionTrace } from './session-trace';

/**
 * How often the sampler reads the TCP tables. A read costs the kernel a few ms whatever the table holds
 * (it walks the whole connection hash), so it runs on a timer shared by every sampler, not per write.
 */
export const SAMPLE_INTERVAL_MS = 20;

/**
 * Where the server's side of a connection stands: `queued` in the listening socket's accept queue (the
 * kernel completed it, the server has not called accept()), or `accepted`.
 */
export type ServerSide = 'queued' | 'accepted';

/** States of a connection that has no socket yet: its handshake done or ending, or the client's FIN already in. */
const QUEUED_STATES: ReadonlySet<string> = new Set(['ESTABLISHED', 'SYN_RECV', 'CLOSE_WAIT']);

/**
 * accept() gives a connection a socket, hence an inode; until then its row has inode 0. A connection the
 * server accepted and closed has inode 0 again, but in a closing state (FIN_WAIT, TIME_WAIT, LAST_ACK).
 */
export function serverSideOf(row: TcpRow): ServerSide {
  return row.inode === 0 && QUEUED_STATES.has(row.state) ? 'queued' : 'accepted';
}

/** One look at a server's port in the TCP tables. */
export interface PortSample {
  /** a LISTEN row on the port was there */
  listening: boolean;
  /** connections waiting in the accept queues: the LISTEN rows' rx_queue, summed (IPv4 and IPv6 listeners) */
  listenQueue: number;
  /** the server's side of each connection, by the client's port (the row's remote port) */
  connections: Map<number, ServerSide>;
}

/** Reads the rows of the server's port (see parseTcpRowsOfPort) into a sample. */
export function samplePort(rows: readonly TcpRow[], port: number): PortSample {
  const sample: PortSample = { listening: false, listenQueue: 0, connections: new Map() };
  for (const row of rows) {
    if (row.localPort !== port) continue;
    if (row.state === 'LISTEN') {
      sample.listening = true;
      sample.listenQueue += row.rxQueue;
    } else {
      sample.connections.set(row.remotePort, serverSideOf(row));
    }
  }
  return sample;
}

/** What the sampler saw of one client's connection: Date.now() of the first sightings. */
interface Sighting {
  queuedAt?: number;
  acceptedAt?: number;
  /** the sample before the first sighting (undefined when it was in the first) */
  sampleBefore?: number;
}

/** The listen queue's length over time: `[time, length]` at the first sample and at every change. */
export type ListenQueueSeries = [number, number][];

/** The accept queue of one server port, sampled while it runs. */
export interface AcceptQueueSampler {
  readonly port: number;
  /**
   * Date.now() when the connection from `clientPort` was accepted, or undefined if not seen accepted
   * (yet). Seen queued first: the first sample that showed it accepted (at most one interval late).
   * Never seen queued: it waited less than a sampling interval, or was accepted before sampling began,
   * and counts as accepted at `connectedAt` (or at the sample before it was first seen, if later).
   */
  acceptedAt(clientPort: number, connectedAt: number): number | undefined;
  /** the LISTEN rows' queue length over time, times in Date.now() ms */
  readonly listenQueue: ListenQueueSeries;
  /** Takes a last sample and stops. */
  stop(): void;
}

const TABLES = ['tcp', 'tcp6'] as const;
type Table = (typeof TABLES)[number];

class PortSampler implements AcceptQueueSampler {
  readonly listenQueue: ListenQueueSeries = [];
  /** the tables to read: both until the port's listener is found, then those holding it */
  tables: Table[] = [...TABLES];
  private readonly seen = new Map<number, Sighting>();
  private lastSampleAt?: number;

  constructor(readonly port: number) {}

  record(texts: ReadonlyMap<Table, string>, at: number): void {
    const rowsByTable = this.tables.map((t) => [t, parseTcpRowsOfPort(texts.get(t) ?? '', this.port)] as const);
    const listeningIn = rowsByTable.filter(([, rows]) => rows.some((r) => r.state === 'LISTEN')).map(([t]) => t);
    if (listeningIn.length > 0) this.tables = listeningIn;
    const sample = samplePort(rowsByTable.flatMap(([, rows]) => rows), this.port);
    for (const [clientPort, side] of sample.connections) {
      let s = this.seen.get(clientPort);
      // queued again after being accepted: a new connection from the same client port
      if (s === undefined || (side === 'queued' && s.acceptedAt !== undefined)) this.seen.set(clientPort, (s = { sampleBefore: this.lastSampleAt }));
      if (side === 'queued') s.queuedAt ??= at;
      else s.acceptedAt ??= at;
    }
    const last = this.listenQueue[this.listenQueue.length - 1];
    if (sample.listening && last?.[1] !== sample.listenQueue) this.listenQueue.push([at, sample.listenQueue]);
    this.lastSampleAt = at;
  }

  acceptedAt(clientPort: number, connectedAt: number): number | undefined {
    const s = this.seen.get(clientPort);
    if (s?.acceptedAt === undefined) return undefined;
    if (s.queuedAt !== undefined) return Math.max(connectedAt, s.acceptedAt);
    return Math.max(connectedAt, s.sampleBefore ?? connectedAt);
  }

  stop(): void {
    if (!active.delete(this)) return;
    if (active.size === 0) clearInterval(timer);
    sample([this]);
  }
}

/** Samplers running: one timer and one read of each table serve them all. */
const active = new Set<PortSampler>();
let timer: NodeJS.Timeout | undefined;

function readTable(table: Table): string {
  try {
    return readFileSync(`/proc/self/net/${table}`, 'utf8');
  } catch {
    return ''; // no IPv6 on this machine
  }
}

/**
 * One read of the tables these samplers need. Read synchronously, so the time stamped is when the kernel
 * wrote the table: an asynchronous read's steps each wait for the main thread, which a crowd of clients
 * connecting keeps busy for a hundred ms and more.
 */
function sample(samplers: Iterable<PortSampler>): void {
  const list = [...samplers];
  const at = Date.now();
  const texts = new Map([...new Set(list.flatMap((s) => s.tables))].map((t) => [t, readTable(t)] as const));
  for (const s of list) s.record(texts, at);
}

/**
 * Samples the accept queue of the server listening on `port` on this machine (in the kit's network
 * namespace) until stopped: which of its connections are still queued in the kernel and which were
 * accepted, and the LISTEN rows' queue length. Undefined where this machine has no /proc.
 */
export function sampleAcceptQueue(port: number): AcceptQueueSampler | undefined {
  if (!hasProcfs()) return undefined;
  const sampler = new PortSampler(port);
  sample([sampler]);
  active.add(sampler);
  // unreferenced: a sampler left running never keeps the process alive
  if (active.size === 1) timer = setInterval(() => sample(active), SAMPLE_INTERVAL_MS).unref();
  return sampler;
}

/** Host names and addresses that are this machine's loopback: a server there shares the kit's TCP tables. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * One line on where the traced sessions waited: how many were seen in the kernel's accept queue and for
 * how long, and the listen queue's peak. Undefined when no session's acceptance is known.
 */
export function acceptQueueSummary(sessions: readonly SessionTrace[], listenQueue: readonly [number, number][]): string | undefined {
  const known = sessions.filter((s) => s.acceptedAt !== undefined && s.connectedAt !== undefined);
  if (known.length === 0) return undefined;
  const waits = known.map((s) => (s.acceptedAt as number) - (s.connectedAt as number));
  const queued = waits.filter((w) => w >= SAMPLE_INTERVAL_MS);
  const peak = listenQueue.reduce((m, [, n]) => Math.max(m, n), 0);
  const longest = queued.length > 0 ? ` (longest ${Math.round(Math.max(...queued))} ms)` : '';
  const unknown = sessions.length - known.length;
  return `${queued.length} of ${known.length} sessions waited in the kernel's accept queue${longest}; ` +
    `listen queue peaked at ${peak}${unknown > 0 ? `; ${unknown} not accepted while sampled` : ''}`;
}
