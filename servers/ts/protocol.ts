// Protocol v1 wire format: messages end with ETX, the server answers each one with "ack",
// and a message that is exactly "goodbye" ends the session.

export const ETX = 0x03;
export const ACK: Buffer = Buffer.from('ack', 'ascii');
export const GOODBYE: Buffer = Buffer.from('goodbye', 'ascii');

/** Whether chunk[start, end) is exactly "goodbye". */
function isGoodbyeAt(chunk: Uint8Array, start: number, end: number): boolean {
  if (end - start !== GOODBYE.length) return false;
  for (let i = 0; i < GOODBYE.length; i++) if (chunk[start + i] !== GOODBYE[i]) return false;
  return true;
}

/** What one chunk of input added to the session. */
export interface FrameResult {
  /** Complete ordinary messages (each one is owed an ack), in order. */
  messages: number;
  /** A goodbye message followed those; input after it is to be ignored. */
  goodbye: boolean;
  /** The unfinished message grew beyond the limit: the connection must be closed. */
  overflow: boolean;
}

/**
 * Splits a byte stream into messages at ETX. Only the length of the unfinished message and its
 * first bytes (enough to recognise "goodbye") are kept, so memory stays constant whatever the input.
 */
export class MessageFramer {
  private length = 0;
  private readonly head = Buffer.alloc(GOODBYE.length + 1);

  constructor(private readonly maxMessageBytes: number) {}

  push(chunk: Uint8Array): FrameResult {
    let messages = 0;
    let pos = 0;
    while (pos < chunk.length) {
      const etx = chunk.indexOf(ETX, pos);
      if (this.length === 0 && etx !== -1 && etx - pos <= this.maxMessageBytes) {
        // The whole message lies in this chunk (the common case): judge it there, copying nothing.
        if (isGoodbyeAt(chunk, pos, etx)) return { messages, goodbye: true, overflow: false };
        messages++;
        pos = etx + 1;
        continue;
      }
      const end = etx === -1 ? chunk.length : etx;
      this.keepHead(chunk, pos, end);
      this.length += end - pos;
      if (this.length > this.maxMessageBytes) return { messages, goodbye: false, overflow: true };
      if (etx === -1) break;
      const goodbye = this.currentIsGoodbye();
      this.length = 0;
      if (goodbye) return { messages, goodbye: true, overflow: false };
      messages++;
      pos = etx + 1;
    }
    return { messages, goodbye: false, overflow: false };
  }

  /** Bytes of the unfinished message received so far. */
  get pendingBytes(): number {
    return this.length;
  }

  private keepHead(chunk: Uint8Array, start: number, end: number): void {
    const room = this.head.length - this.length;
    if (room <= 0) return;
    this.head.set(chunk.subarray(start, Math.min(end, start + room)), this.length);
  }

  private currentIsGoodbye(): boolean {
    return isGoodbyeAt(this.head, 0, this.length);
  }
}
