// Main-thread side of a thread-pool session: relays the client's bytes to the worker thread that
// owns the session and carries out what the worker answers (write an ack, FIN, close).
import { MessageChannel, type MessagePort, type Worker } from 'worker_threads';
import type { Socket } from 'net';
import { ACK } from './protocol';
import { LINGER_AFTER_FIN_MS } from './session';
import type { SessionAssignment, SessionCommand, SocketEvent } from './thread-pool-messages';

/** Stop reading from the client while this many relayed bytes wait for the worker. */
const MAX_BYTES_IN_FLIGHT = 64 * 1024;

export class RelayedSession {
  /** Resolves when the worker is free again. */
  readonly workerFree: Promise<void>;
  /** Resolves once no further ack will be written: our FIN is sent, or the socket is gone. */
  readonly freed: Promise<void>;

  private readonly port: MessagePort;
  /** False once the worker has closed the session: further input is read and dropped. */
  private relaying = true;
  private bytesInFlight = 0;
  private waitingForDrain = false;

  constructor(private readonly socket: Socket, worker: Worker) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.workerFree = new Promise((resolve) => port1.once('close', () => resolve()));
    this.freed = socket.destroyed
      ? Promise.resolve()
      : new Promise((resolve) => {
          socket.once('finish', () => resolve());
          socket.once('close', () => resolve());
        });
    if (socket.destroyed) {
      // Reset while it waited in the queue: the worker just hears that it is gone.
      this.relay({ type: 'abort' });
    }
    socket.on('error', () => undefined); // EPIPE/ECONNRESET end this session only; 'close' follows
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.relay({ type: 'eof' }));
    socket.once('close', () => this.relay({ type: 'abort' }));
    port1.on('message', (command: SessionCommand) => this.onCommand(command));
    const assignment: SessionAssignment = { type: 'session', port: port2 };
    worker.postMessage(assignment, [port2]);
    socket.setNoDelay(true);
    socket.resume(); // queued sockets were left unread until now
  }

  /** Server drains: the worker answers what it already got, then has us close. */
  finish(): void {
    // One more event-loop turn first, so bytes already waiting in the kernel are relayed and answered.
    setImmediate(() => this.relay({ type: 'finish' }));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private relay(event: SocketEvent): void {
    this.port.postMessage(event);
  }

  private onData(chunk: Buffer): void {
    if (!this.relaying) return;
    // A copy of exactly these bytes (a Buffer may be a view on a larger, shared ArrayBuffer).
    this.relay({ type: 'data', bytes: new Uint8Array(chunk) });
    this.bytesInFlight += chunk.byteLength;
    this.updateReading();
  }

  private onCommand(command: SessionCommand): void {
    switch (command.type) {
      case 'ack':
        if (!this.socket.write(command.count === 1 ? ACK : ACK.toString().repeat(command.count)) && !this.waitingForDrain) {
          // The client does not read its acks: stop reading from it, and the worker from producing
          // acks, until it does.
          this.waitingForDrain = true;
          this.relay({ type: 'write-blocked' });
          this.socket.once('drain', () => {
            this.waitingForDrain = false;
            this.relay({ type: 'write-drained' });
            this.updateReading();
          });
        }
        break;
      case 'consumed':
        this.bytesInFlight -= command.bytes;
        break;
      case 'end': {
        this.relaying = false;
        this.socket.end();
        // Keep reading (and dropping) so unread bytes do not turn the close into an RST.
        const linger = setTimeout(() => this.socket.destroy(), LINGER_AFTER_FIN_MS);
        this.socket.once('close', () => clearTimeout(linger));
        break;
      }
      case 'overflow':
        this.relaying = false;
        this.socket.destroy();
        break;
      case 'done':
        this.relaying = false;
        this.port.close();
        break;
    }
    this.updateReading();
  }

  private updateReading(): void {
    if (this.socket.destroyed) return;
    if (this.relaying && (this.waitingForDrain || this.bytesInFlight > MAX_BYTES_IN_FLIGHT)) this.socket.pause();
    else this.socket.resume();
  }
}
