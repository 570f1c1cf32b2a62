// Serves one client socket with protocol v1, the way a blocking server would: messages are worked
// one after the other, each ack written after the work delay, but the waiting is done with timers
// so one thread can serve many sockets. At delay 0 the work is done the moment a message is framed,
// so all the acks a session is owed at the end of a turn of the loop go out in one write(). Every
// model that owns its socket in a Node event loop uses it.
import type { Socket } from 'net';
import { ACK, MessageFramer } from './protocol';

export interface SessionLimits {
  delayMs: number;
  maxMessageBytes: number;
}

/** After our FIN, how long we keep reading (and discarding) before giving up on the client's FIN. */
export const LINGER_AFTER_FIN_MS = 5000;

/**
 * Stop reading from a client while this many of its messages wait for their ack: like a blocking
 * server, we take new input only as fast as we answer it (a flooding client cannot hog the loop).
 */
export const MAX_OWED_BEFORE_PAUSE = 1024;

/** At most this many acks in one write(): a write stays bounded. */
const ACK_BATCH = MAX_OWED_BEFORE_PAUSE;
const ACKS: Buffer = Buffer.concat(Array.from({ length: ACK_BATCH }, () => ACK));
/** ACK_RUNS[n]: n acks, a view of ACKS made once, so that no write allocates. */
const ACK_RUNS: Buffer[] = Array.from({ length: ACK_BATCH + 1 }, (_, n) => ACKS.subarray(ACKS.length - n * ACK.length));

type EndReason = 'goodbye' | 'client-eof' | 'drain';

/**
 * Delay 0: the sessions owed acks this turn of the loop. One setImmediate writes them all once every
 * socket with input has been read (a timer object per session and per round would cost more than the
 * work it schedules).
 */
const owingNow: SocketSession[] = [];

function writeOwedAcksOfThisTurn(): void {
  // A session that writes may be owed more by the time it is read again: it joins the next turn.
  const sessions = owingNow.splice(0);
  for (const session of sessions) session.writeOwedAcks();
}

export class SocketSession {
  /** Resolves once no further ack will be written: our FIN is sent, or the socket is gone. */
  readonly freed: Promise<void>;
  /** Resolves once the socket is fully closed. */
  readonly closed: Promise<void>;

  private readonly framer: MessageFramer;
  private owed = 0;
  private endReason: EndReason | null = null;
  private working = false;
  private waitingForDrain = false;
  private workTimer: NodeJS.Timeout | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private isClosed = false;
  private ourSideClosed = false;
  private resolveFreed!: () => void;

  constructor(private readonly socket: Socket, private readonly limits: SessionLimits) {
    this.framer = new MessageFramer(limits.maxMessageBytes);
    this.freed = new Promise((resolve) => (this.resolveFreed = resolve));
    if (socket.destroyed) {
      // Reset or closed while it waited in a queue: there is nothing left to serve.
      this.closed = Promise.resolve();
      this.onClose();
      return;
    }
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    // EPIPE, ECONNRESET and the like end this session only; 'close' follows.
    socket.on('error', () => undefined);
    socket.once('close', () => this.onClose());
    socket.once('finish', () => this.resolveFreed());
    socket.on('end', () => this.onClientEof());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.setNoDelay(true);
    // Sockets accepted with pauseOnConnect start reading here; others already flow.
    socket.resume();
  }

  /** Server is draining: answer what was already received, then close (like a client EOF). */
  finish(): void {
    // One more event-loop turn first, so bytes already waiting in the kernel are read and answered.
    setImmediate(() => this.endAfterOwedAcks('drain'));
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.endReason !== null) return; // after goodbye, EOF or drain: read and discard
    const frame = this.framer.push(chunk);
    if (frame.overflow) {
      this.socket.destroy();
      return;
    }
    this.owed += frame.messages;
    if (frame.goodbye) this.endAfterOwedAcks('goodbye');
    else this.work();
    this.updateReading();
  }

  private onClientEof(): void {
    this.endAfterOwedAcks('client-eof');
  }

  private endAfterOwedAcks(reason: EndReason): void {
    if (this.endReason !== null) return;
    this.endReason = reason;
    this.work();
  }

  /** Works the next owed message, or closes our side once nothing is owed and the session ends. */
  private work(): void {
    if (this.working || this.isClosed) return;
    if (this.owed > 0) {
      this.working = true;
      if (this.limits.delayMs > 0) this.workTimer = setTimeout(() => this.writeAcks(1), this.limits.delayMs);
      // Delay 0: every owed message is worked already; its acks go out together, one write per batch,
      // once this turn of the loop has read every socket that had input. A write on loopback wakes
      // the client at once: written between the reads, the acks cost a wake-up each (and input that
      // arrives meanwhile joins the batch).
      else if (owingNow.push(this) === 1) setImmediate(writeOwedAcksOfThisTurn);
    } else if (this.endReason !== null) {
      this.closeOurSide();
    }
  }

  /** Delay 0: writes (up to a batch of) the acks owed so far. */
  writeOwedAcks(): void {
    this.writeAcks(Math.min(this.owed, ACK_BATCH));
  }

  private writeAcks(count: number): void {
    this.workTimer = undefined;
    if (this.isClosed) return;
    this.owed -= count;
    if (this.socket.write(ACK_RUNS[count])) {
      this.working = false;
      this.updateReading();
      this.work();
      return;
    }
    // The client does not read its acks: stop reading from it and stop producing acks until it does.
    this.waitingForDrain = true;
    this.updateReading();
    this.socket.once('drain', () => {
      this.waitingForDrain = false;
      this.working = false;
      this.updateReading();
      this.work();
    });
  }

  private updateReading(): void {
    if (this.isClosed) return;
    const backedUp = this.waitingForDrain || this.owed > MAX_OWED_BEFORE_PAUSE;
    // Once the session is ending, input is only drained and dropped.
    if (backedUp && this.endReason === null) this.socket.pause();
    else this.socket.resume();
  }

  private closeOurSide(): void {
    if (this.ourSideClosed) return;
    this.ourSideClosed = true;
    this.socket.end();
    // Keep reading so unread bytes do not turn our close into an RST; bound the wait for the client.
    this.socket.resume();
    this.lingerTimer = setTimeout(() => this.socket.destroy(), LINGER_AFTER_FIN_MS);
  }

  private onClose(): void {
    this.isClosed = true;
    clearTimeout(this.workTimer);
    clearTimeout(this.lingerTimer);
    this.resolveFreed();
  }
}

export function serveSocket(socket: Socket, limits: SessionLimits): SocketSession {
  return new SocketSession(socket, limits);
}
