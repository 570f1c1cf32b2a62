import { Socket, connect as netConnect } from 'node:net';
import { CloseKind, classifyCloseRereading } from './close-kind';
import { pollUntil } from './deadlines';

export const ETX = 0x03;

/** Frames one message: its bytes followed by ETX. */
export function frame(message: string | Buffer): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message, 'latin1') : message;
  return Buffer.concat([body, Buffer.from([ETX])]);
}

/** Counts complete `ack`s in a received byte string; anything else makes the stream invalid. */
export function countAcks(received: Buffer): { acks: number; valid: boolean } {
  const text = received.toString('latin1');
  const acks = Math.floor(text.length / 3);
  const expected = 'ack'.repeat(acks);
  const valid = text.startsWith(expected) && 'ack'.startsWith(text.slice(expected.length));
  return { acks, valid };
}

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

/**
 * A protocol client: talks raw bytes over TCP, records every byte received with its arrival time,
 * and classifies how the server ended the connection (FIN, RST, or still open).
 */
export class ProtocolClient {
  readonly socket: Socket;
  readonly connectedAt: number;
  readonly localPort: number;
  readonly remotePort: number;
  received: Buffer = Buffer.alloc(0);
  readonly arrivals: Arrival[] = [];
  ending?: Ending;
  private closedByUs = false;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.connectedAt = Date.now();
    // ports read undefined after destroy, so record them now
    this.localPort = socket.localPort as number;
    this.remotePort = socket.remotePort as number;
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.arrivals.push({ at: Date.now() - this.connectedAt, bytes: chunk.length });
    });
    socket.on('end', () => {
      if (!this.ending) {
        this.ending = { kind: classifyCloseRereading(this.localPort, this.remotePort), at: Date.now() - this.connectedAt, via: 'end' };
      }
      // Classified; now behave like a real client and close our side too, freeing the server's socket.
      this.closedByUs = true;
      socket.end();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.ending || this.closedByUs) return;
      const kind: CloseKind = err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'rst' : 'open';
      this.ending = { kind, at: Date.now() - this.connectedAt, via: 'error', error: err.code ?? err.message };
    });
    socket.resume();
  }

  /** Connects and resolves once the TCP handshake completed (rejects on refusal or deadline). */
  static connect(host: string, port: number, timeoutMs: number): Promise<ProtocolClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host, port, allowHalfOpen: true });
      socket.setNoDelay(true);
      let connected = false;
      // One last look after the I/O already waiting (see pollUntil): a loaded machine can stall us past
      // the deadline with the connection already made.
      const timer = setTimeout(() => setImmediate(() => {
        if (connected) return;
        socket.destroy();
        reject(new Error(`connect to ${host}:${port} did not complete within ${timeoutMs} ms`));
      }), timeoutMs);
      socket.once('connect', () => {
        connected = true;
        clearTimeout(timer);
        socket.removeListener('error', onError);
        resolve(new ProtocolClient(socket));
      });
      const onError = (err: Error): void => {
        clearTimeout(timer);
        reject(err);
      };
      socket.once('error', onError);
    });
  }

  get text(): string {
    return this.received.toString('latin1');
  }

  get acks(): number {
    return countAcks(this.received).acks;
  }

  /** When each ack completed (Date.now() ms), in order. */
  ackTimes(): number[] {
    const times: number[] = [];
    let bytes = 0;
    for (const a of this.arrivals) {
      const before = Math.floor(bytes / 3);
      bytes += a.bytes;
      for (let i = before; i < Math.floor(bytes / 3); i++) times.push(this.connectedAt + a.at);
    }
    return times;
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
    return pollUntil(() => this.received.length >= n || this.ending !== undefined, timeoutMs).then(
      () => this.received.length >= n,
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

  /** Aborts the connection with RST (SO_LINGER 0). */
  reset(): void {
    this.closedByUs = true;
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  /** Closes our side fully (FIN if nothing unread, as the kernel decides) and stops listening. */
  close(): void {
    this.closedByUs = true;
    if (!this.socket.destroyed) this.socket.destroy();
  }
}

/** Closes every client still open; used in `finally` blocks so no case leaks sockets. */
export function closeAll(clients: Iterable<ProtocolClient | undefined>): void {
  for (const c of clients) c?.close();
}
