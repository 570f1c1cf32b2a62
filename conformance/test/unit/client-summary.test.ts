import { messageWorkMs } from '../../cli/client-summary';
import { SessionTrace } from '../../harness/session-trace';

test('the work time of a long run: the smallest gap among 300,000 acks, without running out of stack', () => {
  const acksAt = Array.from({ length: 300_000 }, (_, i) => 10 + i * 200);
  acksAt[5] = acksAt[4] + 150;
  const traces: SessionTrace[] = [{ label: 'c1', connectedAt: 0, acksAt }];
  expect(messageWorkMs(traces)).toBe(150);
});
