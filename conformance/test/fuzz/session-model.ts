/**
 * What the protocol says a server must answer to a byte stream: one ack per complete message up to
 * the first message that is exactly "goodbye" (after which the server closes, and later bytes do not
 * matter). A trailing run of bytes without ETX is no message.
 */
export interface ExpectedSession {
  acks: number;
  goodbye: boolean;
  /** a message before goodbye holds a byte ≥ 0x80: the server may ack it or close (robustness.non-ascii) */
  nonAscii: boolean;
  /** acks owed for the messages before the first one with a byte ≥ 0x80 (all of them when none has) */
  acksBeforeNonAscii: number;
  /**
   * bytes follow the goodbye: the client kept talking after it said goodbye, and a server that has
   * closed answers bytes arriving on a closed socket with RST, as TCP does; FIN or RST are both right
   */
  bytesAfterGoodbye: boolean;
}

const ETX = 0x03;
const GOODBYE = Buffer.from('goodbye');

/** The expected answer to `stream`, per the protocol. */
export function expectSession(stream: Buffer): ExpectedSession {
  let acks = 0;
  let nonAscii = false;
  let acksBeforeNonAscii = -1;
  let start = 0;
  for (let i = 0; i < stream.length; i++) {
    if (stream[i] !== ETX) continue;
    const message = stream.subarray(start, i);
    start = i + 1;
    if (message.equals(GOODBYE)) return { acks, goodbye: true, nonAscii, acksBeforeNonAscii: nonAscii ? acksBeforeNonAscii : acks, bytesAfterGoodbye: i + 1 < stream.length };
    if (!nonAscii && message.some((b) => b >= 0x80)) {
      nonAscii = true;
      acksBeforeNonAscii = acks;
    }
    acks++;
  }
  return { acks, goodbye: false, nonAscii, acksBeforeNonAscii: nonAscii ? acksBeforeNonAscii : acks, bytesAfterGoodbye: false };
}
