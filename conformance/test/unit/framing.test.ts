import { countAcks, frame, ETX } from '../../harness/client';

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

describe('countAcks', () => {
  test('counts whole acks', () => {
    expect(countAcks(Buffer.from('ackackack'))).toEqual({ acks: 3, valid: true });
  });
  test('a partial ack is valid but not counted', () => {
    expect(countAcks(Buffer.from('ackac'))).toEqual({ acks: 1, valid: true });
  });
  test('anything but acks is invalid', () => {
    expect(countAcks(Buffer.from('ackok!')).valid).toBe(false);
    expect(countAcks(Buffer.from('ACK')).valid).toBe(false);
  });
});
