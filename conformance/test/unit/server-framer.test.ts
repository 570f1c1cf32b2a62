import fc from 'fast-check';
import { MessageFramer } from '../../../servers/ts/protocol';

/** What the whole stream means, framed at once: acks owed before goodbye/overflow, and how it ends. */
function meaning(stream: Buffer, max: number): { messages: number; end: 'goodbye' | 'overflow' | 'open' } {
  let messages = 0;
  let start = 0;
  for (let i = 0; i <= stream.length; i++) {
    if (i - start > max) return { messages, end: 'overflow' };
    if (i === stream.length) break;
    if (stream[i] !== 0x03) continue;
    if (stream.subarray(start, i).toString('latin1') === 'goodbye') return { messages, end: 'goodbye' };
    messages++;
    start = i + 1;
  }
  return { messages, end: 'open' };
}

/** The same stream pushed in the given chunks, up to the first goodbye or overflow. */
function framed(chunks: Buffer[], max: number): { messages: number; end: 'goodbye' | 'overflow' | 'open' } {
  const framer = new MessageFramer(max);
  let messages = 0;
  for (const chunk of chunks) {
    const result = framer.push(chunk);
    messages += result.messages;
    if (result.goodbye) return { messages, end: 'goodbye' };
    if (result.overflow) return { messages, end: 'overflow' };
  }
  return { messages, end: 'open' };
}

function split(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of [...points, stream.length]) {
    if (p > from) chunks.push(stream.subarray(from, p));
    from = Math.max(from, p);
  }
  return chunks;
}

const message = fc.oneof(
  fc.constantFrom('goodbye', 'goodby', 'goodbyee', 'xgoodbye', '', 'hi'),
  fc.string({ maxLength: 12 }).map((s) => s.replace(/\x03/g, '')),
);

describe('the TypeScript servers\' framer', () => {
  test('a goodbye, an ordinary message and a too-long one in one chunk', () => {
    expect(new MessageFramer(8).push(Buffer.from('hi\x03goodbye\x03late\x03'))).toEqual({ messages: 1, goodbye: true, overflow: false });
    expect(new MessageFramer(8).push(Buffer.from('goodbyee\x03'))).toEqual({ messages: 1, goodbye: false, overflow: false });
    expect(new MessageFramer(8).push(Buffer.from('a\x03123456789\x03'))).toEqual({ messages: 1, goodbye: false, overflow: true });
  });

  test('however the stream is cut into chunks, it means what it means whole', () => {
    fc.assert(
      fc.property(fc.array(message, { maxLength: 8 }), fc.string({ maxLength: 10 }), fc.array(fc.nat(), { maxLength: 6 }), fc.integer({ min: 1, max: 10 }),
        (messages, tail, cuts, max) => {
          const stream = Buffer.from(messages.map((m) => `${m}\x03`).join('') + tail.replace(/\x03/g, ''), 'latin1');
          expect(framed(split(stream, cuts), max)).toEqual(meaning(stream, max));
        }),
      { numRuns: 500 },
    );
  });
});
