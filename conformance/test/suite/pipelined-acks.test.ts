import { closeAll, ProtocolClient } from '../../harness/client';
import { makeDeadlines } from '../../harness/deadlines';
import { frame } from '../../harness/framing';
import { launchTarget, stopAllTargets } from '../../harness/launcher';
import { onPath, ssRows } from '../../harness/listen-backlog';
import { resolveTarget } from '../../harness/target';
import { referenceTarget } from '../../reference';

// The event loops at delay 0 gather every ack a connection is owed into one write: messages a client
// pipelines cost the server one read and one write, not one of each per message. The client sees it in
// the data segments its socket received (sock_diag, through ss): one write of 150 bytes is one segment
// on loopback, where 50 writes were 18 (C, Nagle merging some) or 35 (TypeScript, no delay) before.
// Chunks read by the client would not show it: its reads merge whatever has queued. Backpressure, the
// other half, is robustness.slow-reader's.
const MESSAGES = 50;
/** Generous: one input write may reach the server in two reads, and the acks leave in two writes. */
const MAX_SEGMENTS = 5;

/** Data segments our end of the connection received, or undefined without ss. */
function dataSegmentsIn(client: ProtocolClient): number | undefined {
  const row = ssRows('tin', `sport = :${client.localPort} and dport = :${client.remotePort}`);
  const field = row?.flat().find((f) => f.startsWith('data_segs_in:'));
  return field === undefined ? undefined : Number(field.slice('data_segs_in:'.length));
}

afterAll(() => stopAllTargets());

describe.each([
  ['event-loop', 'c'],
  ['master-worker', 'c'],
  ['event-loop', 'ts'],
  ['master-worker', 'ts'],
] as const)('%s (%s) at delay 0', (model, lang) => {
  const spec = referenceTarget(model, lang, 0);
  const deadlines = makeDeadlines(0, 1);
  (spec.available && onPath('ss') ? test : test.skip)(`${MESSAGES} messages in one write: all acked, in at most ${MAX_SEGMENTS} segments; goodbye after more of them: every ack, then the FIN`, async () => {
    const server = await launchTarget(resolveTarget(spec), deadlines);
    let client: ProtocolClient | undefined;
    try {
      client = await ProtocolClient.connect(server.host, server.port, deadlines.connect());
      await client.write(Buffer.concat(Array.from({ length: MESSAGES }, (_, i) => frame(`m${i}`))));
      expect(await client.waitForAcks(MESSAGES, deadlines.ack(1))).toBe(true);
      expect(client.text).toBe('ack'.repeat(MESSAGES));
      expect(dataSegmentsIn(client)).toBeLessThanOrEqual(MAX_SEGMENTS);

      await client.write(Buffer.concat([...Array.from({ length: 10 }, () => frame('x')), frame('goodbye')]));
      const ending = await client.waitForClose(deadlines.close());
      expect(ending.kind).toBe('fin');
      expect(client.text).toBe('ack'.repeat(MESSAGES + 10));
    } finally {
      closeAll([client]);
      await server.stop();
    }
  });
});
