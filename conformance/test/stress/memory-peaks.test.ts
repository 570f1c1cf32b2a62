import { floodWithoutReading, streamWithoutEtx } from '../../cases/memory-pressure';
import { ProtocolClient } from '../../harness/client';
import { makeDeadlines, resolveMultiplier, waitUntilSettled } from '../../harness/deadlines';
import { launchTarget, LaunchedTarget, stopAllTargets } from '../../harness/launcher';
import { withMachineLock } from '../../harness/machine-lock';
import { REFERENCE_MODELS } from '../../harness/models';
import { resolveTarget } from '../../harness/target';
import { MIB, sampleTree } from '../../harness/tree-probe';
import { Language, referenceTarget } from '../../reference';

/**
 * Every reference server's resident memory (whole process tree) under the two pressures a client can
 * apply: a 16 MiB stream without ETX, and a flood of messages whose acks are never read. The peak is
 * reported per server; growth must stay bounded (16 MiB and 32 MiB, as the cases demand).
 */
const d = makeDeadlines(0, resolveMultiplier());
const peaks: string[] = [];

async function servedClient(server: LaunchedTarget, label: string): Promise<ProtocolClient> {
  const c = await ProtocolClient.connect(server.host, server.port, d.connect());
  await c.send(label);
  if (!(await c.waitForAcks(1, d.ack(1)))) throw new Error(`${label}: no ack before the pressure began`);
  return c;
}

const settledRss = (server: LaunchedTarget) => waitUntilSettled(() => sampleTree(server).rssBytes, d.quiet(), d.slack() * 3);
const mib = (bytes: number) => (bytes / MIB).toFixed(1);

afterAll(async () => {
  await stopAllTargets();
  process.stdout.write(`resident memory of the tree (MiB): baseline → peak\n  ${peaks.join('\n  ')}\n`);
});

describe('memory stays bounded under pressure', () => {
  const servers = (['ts', 'c'] as Language[]).flatMap((lang) => REFERENCE_MODELS.map((model) => referenceTarget(model, lang, 0)));
  for (const spec of servers) {
    if (!spec.available) {
      test.skip(`${spec.name}: not built here (no C compiler?)`, () => undefined);
      continue;
    }
    test(`${spec.name}: a 16 MiB stream without ETX, and a reader that never reads`, async () => {
      // The flood loads the machine in bursts: it runs alone, like robustness.slow-reader.
      await withMachineLock('exclusive', async () => {
        const server = await launchTarget(resolveTarget(spec), d);
        try {
          const endless = await servedClient(server, 'before the endless message');
          const streamBase = await settledRss(server);
          const stream = await streamWithoutEtx(server, d, endless);
          endless.close();
          const flooder = await servedClient(server, 'before the flood');
          const floodBase = await settledRss(server);
          const flood = await floodWithoutReading(server, d, flooder);
          flooder.reset();
          peaks.push(
            `${spec.name.padEnd(24)} stream: ${mib(streamBase)} → ${mib(stream.peak)} (closed after ${mib(stream.sent)} MiB)   ` +
              `flood: ${mib(floodBase)} → ${mib(flood.peak)} (${mib(flood.written)} MiB taken)`,
          );
          expect(stream.ending.kind).not.toBe('open');
          expect(stream.peak - streamBase).toBeLessThan(16 * MIB);
          expect(flood.peak - floodBase).toBeLessThan(32 * MIB);
        } finally {
          await server.stop();
        }
      });
    });
  }
});
