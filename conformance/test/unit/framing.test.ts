import { AckStream, ETX, frame } from '../../harness/framing';

describe('frame', () => {
  test('appends ETX to the message bytes', () => {
    expect([...frame('hi')]).toEqual([0x68, 0x69, ETX]);
  });
  test('an empty message is ETX alone', () => {
    expect([...frame('')]).toEqual([ETX]);
  });
  test('keeps bytes ≥ 0x80 unchanged', () => {
    expect([...frame(Buffer.from([0xff, 0x80]))]).toEqual([0xff, 0x80, ETX]);
  });
});

/** An AckStream after reading `chunks` one after another. */
function read(...chunks: string[]): AckStream {
  const stream = new AckStream();
  for (const chunk of chunks) stream.read(Buffer.from(chunk, 'latin1'));
  return stream;
}

describe('AckStream', () => {
  test('counts whole acks; a partial one is valid but not counted', () => {
    expect(read('ackackack')).toMatchObject({ acks: 3, valid: true });
    expect(read('ackackac')).toMatchObject({ acks: 2, valid: true });
    expect(read('')).toMatchObject({ acks: 0, valid: true });
  });
  test('an ack split across reads counts once it is whole', () => {
    expect(read('a', 'c')).toMatchObject({ acks: 0, valid: true });
    expect(read('a', 'ckac', 'k')).toMatchObject({ acks: 2, valid: true });
  });
  test('anything but acks is unexpected, from the start of the reply that went wrong', () => {
    expect(read('acknak')).toMatchObject({ acks: 1, valid: false, unexpected: 'nak' });
    expect(read('ax')).toMatchObject({ acks: 0, unexpected: 'ax' });
    expect(read('ac', 'x!')).toMatchObject({ acks: 0, unexpected: 'acx!' });
    expect(read('ACK').valid).toBe(false);
  });
  test('nothing is read after the unexpected bytes, and at most 40 of them are kept', () => {
    expect(read('ack\n', 'ackack')).toMatchObject({ acks: 1, unexpected: '\n' });
    expect(read('x'.repeat(100)).unexpected).toBe('x'.repeat(40));
  });
});
