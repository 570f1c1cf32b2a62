import { readlinkSync } from 'node:fs';
import { Socket, connect as netConnect } from 'node:net';
import { CloseClassifier, CloseKind, classifyCloseRereading, classifyUnixEnd } from './close-kind';
import { describeEndpoint, Endpoint } from './endpoint';
import { pollUntil } from './deadlines';
import { ACK, AckStream, frame } from './framing';

/** One ack (or other chunk) as it arrived, for timelines and evidence. */
export interface Arrival {
  at: number;
  bytes: number;
}

/** What the client saw of a connection's end. */
export interface Ending {
  kind: CloseKind;
  /** ms since connect */
  at: number;
  /** how it was detected: 'end' (stream EOF + /proc lookup) or 'error' */
  via: 'end' | 'error';
  error?: string;
}

/** How a client records and classifies; the defaults are what the cases need. */
export interface ClientOptions {
  /**
   * Decides FIN or RST once the server's end of stream arrived. Default: a fresh read of our socket's
   * row (classifyCloseRereading); the client command passes a batched one, one read for many ends.
   */
  classifyEnd?: CloseClassifier;
  /**
   * Keep every byte received and when each chunk came (`received`, `text`, `arrivals`), as the cases
   * judge them (default true). The client command keeps only the acks: a run may bring 10 million.
   */
  keepReceived?: boolean;
}

/**
 * A protocol client: talks raw bytes over TCP, records every byte received with its arrival time,
 * reads the acks in them, and classifies how the server ended the connection (FIN, RST, or still open).
 */
export class ProtocolClient {
  readonly socket: Socket;
  readonly connectedAt: number;
  /** the ports of a TCP connection (undefined over a Unix socket) */
  readonly localPort: number;
  readonly remotePort: number;
  /** over a Unix socket: the server's path, and the inode of our socket (what /proc/<pid>/fd links to) */
  readonly unixPath?: string;
  readonly unixInode?: number;
  /** every byte received (empty when not kept, see ClientOptions) */
  received: Buffer = Buffer.alloc(0);
  readonly arrivals: Arrival[] = [];
  /** the bytes received read as the protocol has them: the true acks, then what came instead of one */
  readonly ackStream = new AckStream();
  ending?: Ending;
  private bytesReceived = 0;
  /** Date.now() when each 3-byte reply completed */
  private readonly replyTimes: number[] = [];
  private closedByUs = false;
  /** set at the server's end of stream: from then on its classification decides the ending, not an error */
  private endOfStream = false;
  private readonly listeners = new Set<() => void>();

  private constructor(socket: Socket, options: ClientOptions, unixPath?: string) {
    this.socket = socket;
    this.connectedAt = Date.now();
    // ports read undefined after destroy, so record them now
    this.localPort = socket.localPort as number;
    this.remotePort = socket.remotePort as number;
    const fd = unixPath === undefined ? undefined : descriptorOf(socket);
    if (unixPath !== undefined) {
      this.unixPath = unixPath;
      this.unixInode = fd === undefined ? undefined : inodeOf(fd);
    }
    const keepReceived = options.keepReceived ?? true;
    const classifyEnd = options.classifyEnd ?? classifyCloseRereading;
    socket.on('data', (chunk: Buffer) => {
      const now = Date.now();
      if (keepReceived) {
        this.received = Buffer.concat([this.received, chunk]);
        this.arrivals.push({ at: now - this.connectedAt, bytes: chunk.length });
      }
      const repliesBefore = this.acks;
      this.bytesReceived += chunk.length;
      for (let i = repliesBefore; i < this.acks; i++) this.replyTimes.push(now);
      this.ackStream.read(chunk);
      this.changed();
    });
    socket.on('end', () => {
      this.endOfStream = true;
      const at = Date.now() - this.connectedAt;
      const record = (kind: CloseKind): void => {
        if (this.closedByUs) return; // we closed while it was classified: the end is ours now
        this.ending ??= { kind, at, via: 'end' };
        // Classified; now behave like a real client and close our side too, freeing the server's socket.
        this.closedByUs = true;
        if (!socket.destroyed) socket.end();
        this.changed();
      };
      // Over a Unix socket, our socket itself tells: read once more (see classifyUnixEnd); with no
      // descriptor to read, the end of stream is taken for the end of file it usually is.
      const kind = unixPath === undefined ? classifyEnd(this.localPort, this.remotePort) : fd === undefined ? 'fin' : classifyUnixEnd(fd);
      // the default answers at once: `ending` is then set within this event, as the cases expect
      if (kind instanceof Promise) void kind.then(record);
      else record(kind);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.ending || this.closedByUs || this.endOfStream) return;
      const kind: CloseKind = err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'rst' : 'open';
      this.ending = { kind, at: Date.now() - this.connectedAt, via: 'error', error: err.code ?? err.message };
      this.changed();
    });
    socket.resume();
  }

  /** Connects and resolves once the TCP handshake completed (rejects on refusal or deadline). */
  static connect(host: string, port: number, timeoutMs: number, options: ClientOptions = {}): Promise<ProtocolClient> {
    return ProtocolClient.connectTo({ host, port }, timeoutMs, options);
  }

  /** Connects to a TCP endpoint or a Unix socket's path; resolves once connected (rejects on refusal or deadline). */
  static connectTo(endpoint: Endpoint, timeoutMs: number, options: ClientOptions = {}): Promise<ProtocolClient> {
    const where = describeEndpoint(endpoint);
    return new Promise((resolve, reject) => {
      // half-open allowed: after the server's FIN our socket must stay in CLOSE_WAIT until classified
      const socket = endpoint.path !== undefined
        ? netConnect({ path: endpoint.path, allowHalfOpen: true })
        : netConnect({ host: endpoint.host, port: endpoint.port, allowHalfOpen: true });
      if (endpoint.path === undefined) socket.setNoDelay(true);
      let connected = false;
      // One last look after the I/O already waiting (see pollUntil): a loaded machine can stall us past
      // the deadline with the connection already made.
      const timer = setTimeout(() => setImmediate(() => {
        if (connected) return;
        socket.destroy();
        reject(new Error(`connect to ${where} did not complete within ${timeoutMs} ms`));
      }), timeoutMs);
      socket.once('connect', () => {
        connected = true;
        clearTimeout(timer);
        socket.removeListener('error', onError);
        resolve(new ProtocolClient(socket, options, endpoint.path));
      });
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', onError);
    });
  }

  /** `received` as text (empty when not kept) */
  get text(): string {
    return this.received.toString('latin1');
  }

  /**
   * Replies so far, counted in 3-byte units whatever their bytes: all acks from a correct server. The
   * cases count these and judge the bytes apart (`text`); `ackStream.acks` counts only true acks.
   */
  get acks(): number {
    return Math.floor(this.bytesReceived / ACK.length);
  }

  /** When each reply counted in `acks` completed (Date.now() ms), in order, from the `from`th on. */
  ackTimes(from = 0): number[] {
    return this.replyTimes.slice(from);
  }

  /**
   * Calls `listener` after each thing the client records (bytes, the end) until the returned function
   * is called, so a waiter looks again at once instead of polling.
   */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  /** Writes raw bytes and resolves once they are handed to the kernel. */
  write(bytes: Buffer | string): Promise<void> {
    const buf = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    return new Promise((resolve) => {
      if (this.socket.destroyed || !this.socket.writable) return resolve();
      this.socket.write(buf, () => resolve());
    });
  }

  /** Sends one framed message. */
  send(message: string | Buffer): Promise<void> {
    return this.write(frame(message));
  }

  /** Waits until at least `n` bytes arrived; false at the deadline. */
  waitForBytes(n: number, timeoutMs: number): Promise<boolean> {
    return pollUntil(() => this.bytesReceived >= n || this.ending !== undefined, timeoutMs).then(
      () => this.bytesReceived >= n,
    );
  }

  /** Waits until `n` acks arrived (or the connection ended); false at the deadline. */
  async waitForAcks(n: number, timeoutMs: number): Promise<boolean> {
    return pollUntil(() => this.acks >= n || this.ending !== undefined, timeoutMs).then(() => this.acks >= n);
  }

  /** Waits for the server to end the connection; 'open' if it did not within the deadline. */
  async waitForClose(timeoutMs: number): Promise<Ending> {
    await pollUntil(() => this.ending !== undefined, timeoutMs);
    return this.ending ?? { kind: 'open', at: Date.now() - this.connectedAt, via: 'end' };
  }

  /**
   * Bytes handed to the kernel so far, or undefined where Node does not say. Exact while at most one
   * write is outstanding: Node counts a write in bytesWritten when it is made, and its handle's
   * writeQueueSize holds the part the kernel has not taken yet.
   */
  sentToKernel(): number | undefined {
    // The stream handle is not in Node's typings; its writeQueueSize has been there since Node 8.
    const queued = (this.socket as unknown as { _handle?: { writeQueueSize?: unknown } })._handle?.writeQueueSize;
    return typeof queued === 'number' ? this.socket.bytesWritten - queued : undefined;
  }

  /** Stops reading: what the server sends piles up in the kernel buffers (a slow reader). */
  stopReading(): void {
    this.socket.pause();
  }

  /** Half-closes: sends FIN and keeps reading. */
  endWriting(): void {
    this.socket.end();
  }

  /**
   * Aborts the connection with RST (SO_LINGER 0). A Unix socket has no abortive close: there it is
   * closed at once (the server reads the end of file, or ECONNRESET where acks were left unread).
   */
  reset(): void {
    this.closedByUs = true;
    if (this.socket.destroyed) return;
    if (this.unixPath !== undefined) this.socket.destroy();
    else this.socket.resetAndDestroy();
  }

  /** Closes our side fully (FIN if nothing unread, as the kernel decides) and stops listening. */
  close(): void {
    this.closedByUs = true;
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

/** The descriptor under a connected socket (Node's handle keeps it, internal but long-standing); undefined if none. */
function descriptorOf(socket: Socket): number | undefined {
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}

/** The inode of the socket behind a descriptor of ours, as /proc/<pid>/fd shows it. */
function inodeOf(fd: number): number | undefined {
  try {
    const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined; // no /proc
  }
}

/** Closes every client still open; used in `finally` blocks so no case leaks sockets. */
export function closeAll(clients: Iterable<ProtocolClient | undefined>): void {
  for (const c of clients) c?.close();
}
