/** The protocol's bytes (docs/protocol.md, section 1): what a client sends and what a server answers. */

/** Ends every message; framing is by ETX only. */
export const ETX = 0x03;
/** The server's one reply, once per message. */
export const ACK = 'ack';
/** The message that asks the server to end the session (with FIN). */
export const GOODBYE = 'goodbye';

/** How much of a wrong reply is kept: enough to show a person what came instead of an ack. */
const UNEXPECTED_KEPT = 40;

/** Frames one message: its bytes followed by ETX. */
export function frame(message: string | Buffer): Buffer {
  const body = typeof message === 'string' ? Buffer.from(message, 'latin1') : message;
  return Buffer.concat([body, Buffer.from([ETX])]);
}

/**
 * Reads a server's replies as they arrive: "ack" after "ack", the last one perhaps still partial.
 * Only that partial ack is kept between reads, so a long session costs no growing buffer.
 */
export class AckStream {
  /** complete acks before anything else arrived */
  acks = 0;
  /**
   * What came instead of an ack, from the start of the reply that went wrong, as far as that read went
   * (latin1, at most 40 bytes); undefined while every byte so far belongs to an ack. Nothing is read after it.
   */
  unexpected?: string;
  private partial = '';

  read(chunk: Buffer | string): void {
    if (this.unexpected !== undefined) return;
    const text = this.partial + (typeof chunk === 'string' ? chunk : chunk.toString('latin1'));
    let acks = 0;
    while (text.startsWith(ACK, acks * ACK.length)) acks++;
    const rest = text.slice(acks * ACK.length);
    this.acks += acks;
    if (ACK.startsWith(rest)) this.partial = rest;
    else [this.unexpected, this.partial] = [rest.slice(0, UNEXPECTED_KEPT), ''];
  }

  /** Every byte so far belongs to an ack (the last one perhaps still partial). */
  get valid(): boolean {
    return this.unexpected === undefined;
  }
}
