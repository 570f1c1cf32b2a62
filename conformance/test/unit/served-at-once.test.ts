import { conclusivelyShort, servedAtOnce, servedOneByOne } from '../../cases/parallelism';

// Acks are given as ms after the send at t = 1000; the work delay is 200 ms.
const d = 200;
const at = (...after: number[]): number[] => after.map((t) => 1000 + t);

describe('servedAtOnce: how many sessions one moment\'s messages were worked at the same time', () => {
  test('serial work (acks a delay apart) counts one', () => {
    const m = servedAtOnce(1000, at(201, 402, 603, 804), 4, d);
    expect(m.count).toBe(1);
    expect(m.summary).toBe('served 1 at a time: acks 201 ms apart');
  });

  test('a serial server whose timer fires a little early still counts one', () => {
    expect(servedAtOnce(1000, at(199, 398, 597), 3, d).count).toBe(1);
  });

  test('a pool of 5 among 10 sessions counts 5, the next wave a delay later', () => {
    const m = servedAtOnce(1000, at(203, 204, 206, 210, 215, 405, 406, 409, 411, 420), 10, d);
    expect(m.count).toBe(5);
    expect(m.windowMs).toBe(380);
  });

  test('acks that a busy machine let out late count while they beat a second delay', () => {
    // First ack 77 ms late, the rest spread over another 100 ms: half a delay from the first is not
    // the bound, a second delay is.
    const spread = Array.from({ length: 20 }, (_, i) => 277 + i * 5);
    expect(servedAtOnce(1000, at(...spread), 20, d).count).toBe(20);
  });

  test('an ack after a second delay could have ended does not count', () => {
    expect(servedAtOnce(1000, at(210, 220, 385), 3, d).count).toBe(2);
  });

  test('a server that answers sooner than its delay is judged against its own answer time', () => {
    // 50 ms work, serial: two acks fit before 2 × 200 ms, so the delay cannot be the bound.
    const m = servedAtOnce(1000, at(50, 100, 150, 200), 4, d);
    expect(m.count).toBe(1);
    expect(m.summary).toMatch(/1 at a time/);
    expect(servedAtOnce(1000, at(50, 52, 55, 60), 4, d).summary).toMatch(/^4 served at the same time .*sooner than the 200 ms delay/);
  });

  test('a serial server still busy with earlier messages counts one, not none', () => {
    // The first ack of this round comes after 14 earlier messages were worked.
    const m = servedAtOnce(1000, at(2909, 3109, 3309), 51, d);
    expect(m.count).toBe(1);
    expect(m.summary).toBe('served 1 at a time: acks 200 ms apart');
  });

  test('a pool busy with earlier work still shows its size in acks close together', () => {
    const m = servedAtOnce(1000, at(1203, 1205, 1209, 1401, 1404, 1410), 6, d);
    expect(m.count).toBe(3);
    expect(m.summary).toMatch(/^3 served at the same time \(acks within 6 ms of each other\)/);
  });

  test('no ack at all counts none', () => {
    const m = servedAtOnce(1000, [], 3, d);
    expect(m.count).toBe(0);
    expect(m.summary).toMatch(/no ack for any of the 3/);
  });
});

describe('a short measurement that needs no second look with the machine alone', () => {
  test('acks one a delay after another are serial service', () => {
    expect(servedOneByOne([201, 402, 603, 804], d)).toBe(true);
    expect(conclusivelyShort(servedAtOnce(1000, at(201, 402, 603, 804), 4, d), d)).toBe(true);
  });

  test('acks late but bunched, as load leaves them, are not', () => {
    expect(servedOneByOne([277, 280, 391, 395, 560], d)).toBe(false);
    expect(conclusivelyShort(servedAtOnce(1000, at(277, 280, 391, 395, 560), 5, d), d)).toBe(false);
  });

  test('two acks are too few to call a pattern', () => {
    expect(servedOneByOne([201, 402], d)).toBe(false);
  });

  test('no ack at all within the allowance is short whatever the load', () => {
    expect(conclusivelyShort(servedAtOnce(1000, [], 4, d), d)).toBe(true);
  });

  test('a kit that stalled while timing leaves nothing conclusive', () => {
    const stalled = { ...servedAtOnce(1000, at(201, 402, 603), 3, d), kitStalledMs: 80 };
    expect(conclusivelyShort(stalled, d)).toBe(false);
  });
});
