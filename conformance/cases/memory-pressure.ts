import { frame, Ending, ProtocolClient } from '../harness/client';
import { Deadlines } from '../harness/deadlines';
import { LaunchedTarget } from '../harness/launcher';
import { MIB, treeRss } from '../harness/tree-probe';

/** The two ways a client can push a server's memory: shared by the cases and the memory stress test. */

/**
 * Writes and waits until the bytes are flushed to the kernel (true) or `ms` pass (false). The timer is
 * cleared as soon as the write is done: nothing is left ticking, and a flood is not slowed by polls.
 */
async function writeWithin(client: ProtocolClient, bytes: Buffer, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([client.write(bytes).then(() => true, () => false), expired]);
  } finally {
    clearTimeout(timer);
  }
}

export interface StreamResult {
  /** bytes written before the server closed (or the limit or deadline was reached) */
  sent: number;
  /** highest resident memory of the tree seen meanwhile, in bytes */
  peak: number;
  ending: Ending;
}

/**
 * Writes up to `limit` bytes (16 MiB) with no ETX in them, sampling the tree's resident memory every
 * 20 ms, and waits for the server to close: a server must bound what it buffers for one message.
 */
export async function streamWithoutEtx(server: LaunchedTarget, d: Deadlines, client: ProtocolClient, limit = 16 * MIB): Promise<StreamResult> {
  let peak = treeRss(server);
  const sampler = setInterval(() => (peak = Math.max(peak, treeRss(server))), 20);
  try {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const deadline = Date.now() + d.ack(1) + d.slack() * 5;
    let sent = 0;
    while (sent < limit && client.ending === undefined && !client.socket.destroyed && Date.now() < deadline) {
      await writeWithin(client, chunk, d.slack());
      sent += chunk.length;
    }
    const ending = await client.waitForClose(d.close());
    peak = Math.max(peak, treeRss(server));
    return { sent, peak, ending };
  } finally {
    clearInterval(sampler);
  }
}

export interface FloodResult {
  /** bytes the server took before its backpressure stopped us (or the time was up) */
  written: number;
  peak: number;
}

/**
 * Stops reading on `flooder` and writes messages (8192 per write) until the server stops taking them
 * (its backpressure: a write not flushed within a slack period) or ten slack periods pass; returns the
 * bytes written and the RSS peak. The time is generous because the flood must fill the kernel's socket
 * buffers (several MiB each way) before a server's backpressure, or its blocking, shows: on a loaded
 * machine that takes several seconds, and a flood cut short lets a server that blocks look fine.
 */
export async function floodWithoutReading(server: LaunchedTarget, d: Deadlines, flooder: ProtocolClient): Promise<FloodResult> {
  let peak = treeRss(server);
  // Sampled on a timer, not once per write: the probe's cost does not grow with the flood's speed.
  const sampler = setInterval(() => (peak = Math.max(peak, treeRss(server))), 20);
  flooder.stopReading();
  const burst = Buffer.concat(Array.from({ length: 8192 }, () => frame('flood')));
  const until = Date.now() + d.slack() * 10;
  let written = 0;
  try {
    while (Date.now() < until && flooder.ending === undefined) {
      const flushed = await writeWithin(flooder, burst, d.slack());
      if (!flushed) break;
      written += burst.length;
    }
  } finally {
    clearInterval(sampler);
  }
  return { written, peak: Math.max(peak, treeRss(server)) };
}
