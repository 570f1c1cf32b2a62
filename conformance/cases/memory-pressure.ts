import { Ending, ProtocolClient } from '../harness/client';
import { frame } from '../harness/framing';
import { Deadlines, pollUntil } from '../harness/deadlines';
import { serverProgress, ServerProgress } from '../harness/server-progress';
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
  /** bytes the server took before it stopped reading the flooder (or the time was up) */
  written: number;
  peak: number;
  /**
   * How the flood ended: `held` the server stopped reading the flooder and kept not reading it (its
   * backpressure, or its blocking), `time` the time was up, `closed` the connection ended.
   */
  ended: 'held' | 'time' | 'closed';
  /** how long the flood lasted */
  ms: number;
}

/** How often the server's end is looked at while a write is pending. */
const HOLD_LOOK_MS = 50;

/**
 * Stops reading on `flooder` and writes messages (8192 per write) until the server stops reading them
 * for good, or ten slack periods pass (thirty while the acks the server has not got out still grow: a
 * slow server on its way to filling its send buffer); returns the bytes written, the RSS peak and how
 * it ended. A server's send buffer grows to several MiB of acks, a million messages or more: a
 * server that blocks when it is full is seen only once it is.
 *
 * A write that is not flushed does not end the flood by itself: the flood outruns any server, and its
 * writes stall again and again while the server works through what it took (stalls of 0.6-2.9 s were
 * measured before a server's buffers filled). The server holds the flooder when, for a settle period,
 * bytes wait unread at its end and it reads and writes none on that connection. `whileHeld` (the case's
 * probe of another client) then runs; if the server still has not touched the flooder's connection
 * after it, the hold is its backpressure (or its blocking) and the flood ends; otherwise it goes on.
 * Where the socket table cannot be read, a write not flushed within a slack period ends the flood.
 */
export async function floodWithoutReading(
  server: LaunchedTarget, d: Deadlines, flooder: ProtocolClient, whileHeld: () => Promise<void> = async () => undefined,
): Promise<FloodResult> {
  let peak = treeRss(server);
  // Sampled on a timer, not once per write: the probe's cost does not grow with the flood's speed.
  const sampler = setInterval(() => (peak = Math.max(peak, treeRss(server))), 20);
  flooder.stopReading();
  const burst = Buffer.concat(Array.from({ length: 8192 }, () => frame('flood')));
  const started = Date.now();
  let unsentHigh = 0;
  let growingAt = started;
  let lookedAt = 0;
  const look = (): ServerProgress | undefined => {
    lookedAt = Date.now();
    const progress = serverProgress(flooder);
    if (progress !== undefined && progress.unsent > unsentHigh) {
      unsentHigh = progress.unsent;
      growingAt = lookedAt;
    }
    return progress;
  };
  const timeUp = (): boolean => {
    const spent = Date.now() - started;
    return spent >= d.slack() * 30 || (spent >= d.slack() * 10 && Date.now() - growingAt > d.slack());
  };
  let written = 0;
  let ended: FloodResult['ended'] = 'time';
  const same = (a: ServerProgress | undefined, b: ServerProgress): boolean => a !== undefined && a.read === b.read && a.wrote === b.wrote;
  try {
    flood: while (!timeUp()) {
      if (Date.now() - lookedAt >= HOLD_LOOK_MS) look();
      if (flooder.ending !== undefined || flooder.socket.destroyed) {
        ended = 'closed';
        break;
      }
      let state = 'pending' as 'pending' | 'flushed' | 'failed';
      void flooder.write(burst).then(() => (state = 'flushed'), () => (state = 'failed'));
      const pendingSince = Date.now();
      let still: { progress: ServerProgress; since: number } | undefined;
      for (;;) {
        await pollUntil(() => state !== 'pending', HOLD_LOOK_MS);
        if (state === 'flushed') break;
        if (state === 'failed') {
          ended = 'closed';
          break flood;
        }
        if (timeUp()) break flood;
        const progress = look();
        if (progress === undefined) {
          // no count to go by (no socket table, another network namespace): a stall of a slack ends it
          if (Date.now() - (still?.since ?? pendingSince) < d.slack()) continue;
          ended = 'held';
          break flood;
        }
        if (still === undefined || progress.unread === 0 || !same(progress, still.progress)) {
          still = { progress, since: Date.now() };
          continue;
        }
        if (Date.now() - still.since < d.settle()) continue;
        await whileHeld();
        if (state === 'pending' && same(look(), progress)) {
          ended = 'held';
          break flood;
        }
        still = undefined;
      }
      written += burst.length;
    }
  } finally {
    clearInterval(sampler);
  }
  return { written, peak: Math.max(peak, treeRss(server)), ended, ms: Date.now() - started };
}
