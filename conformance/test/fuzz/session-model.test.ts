import { expectSession } from './session-model';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('the fuzz oracle', () => {
  test.each([
    ['', { acks: 0, goodbye: false, nonAscii: false, acksBeforeNonAscii: 0, bytesAfterGoodbye: false }],
    ['a\u0003b\u0003partial', { acks: 2, goodbye: false, nonAscii: false, acksBeforeNonAscii: 2, bytesAfterGoodbye: false }],
    ['\u0003\u0003', { acks: 2, goodbye: false, nonAscii: false, acksBeforeNonAscii: 2, bytesAfterGoodbye: false }],
    ['x\u0003goodbye\u0003y\u0003', { acks: 1, goodbye: true, nonAscii: false, acksBeforeNonAscii: 1, bytesAfterGoodbye: true }],
    ['goodbyeX\u0003 goodbye\u0003goodbye', { acks: 2, goodbye: false, nonAscii: false, acksBeforeNonAscii: 2, bytesAfterGoodbye: false }],
    ['a\u0003\u00e9\u0003goodbye\u0003', { acks: 2, goodbye: true, nonAscii: true, acksBeforeNonAscii: 1, bytesAfterGoodbye: false }],
    ['goodbye\u0003\u00e9\u0003', { acks: 0, goodbye: true, nonAscii: false, acksBeforeNonAscii: 0, bytesAfterGoodbye: true }],
  ])('%j', (stream, expected) => {
    expect(expectSession(b(stream))).toEqual(expected);
  });
});
