import { ProtocolClient } from '../harness/client';
import { CaseContext } from './types';

/** The ways a session can end, as resource cases exercise them. */
export type SessionEnd = 'goodbye' | 'eof' | 'full-close' | 'rst' | 'connect-close';

export const EVERY_END: SessionEnd[] = ['goodbye', 'eof', 'full-close', 'rst', 'connect-close'];

/** `rounds` sessions of every kind of ending, interleaved. */
export function sessionMix(rounds: number): SessionEnd[] {
  return Array.from({ length: rounds }, () => EVERY_END).flat();
}

/**
 * One session that ends the given way. Whatever the server does, the session is over when this
 * resolves: a client that got no FIN (or no ack) in time gives up and closes, as a real one would, so
 * the resources the server holds for it can be measured afterwards. Resolves with the problem seen.
 */
async function oneSession(ctx: CaseContext, end: SessionEnd, label: string, crowd: number): Promise<string | undefined> {
  const c: ProtocolClient = await ctx.connect(label);
  const d = ctx.deadlines;
  const firstAck = d.firstAck(crowd);
  // Once nothing more is owed, a FIN comes at once from a correct server; a resource case does not
  // judge it (the close cases do), so the client waits only briefly before leaving on its own.
  const finPatience = d.quiet();
  try {
    switch (end) {
      case 'connect-close':
        return undefined;
      case 'rst':
        await c.send('reset after this');
        c.reset();
        return undefined;
      case 'goodbye':
        await c.send('hello');
        if (!(await c.waitForAcks(1, firstAck))) return `${label}: no ack within ${firstAck} ms`;
        await c.send('goodbye');
        return (await c.waitForClose(finPatience)).kind === 'fin' ? undefined : `${label}: no FIN within ${finPatience} ms after goodbye`;
      case 'eof':
        await c.send('hello');
        c.endWriting();
        await c.waitForAcks(1, firstAck);
        return (await c.waitForClose(finPatience)).kind === 'fin' ? undefined : `${label}: no FIN within ${finPatience} ms after its ack and EOF`;
      case 'full-close':
        await c.send('hello');
        return (await c.waitForAcks(1, firstAck)) ? undefined : `${label}: no ack within ${firstAck} ms`;
    }
  } finally {
    c.close();
  }
}

/**
 * Runs sessions that end in the given ways, in waves no larger than the server's limit (so a bounded
 * server is not asked to do what it cannot). Resolves with the problems seen, empty when all went well.
 */
export async function runSessions(ctx: CaseContext, ends: SessionEnd[]): Promise<string[]> {
  const wave = ctx.target.limit === 'unbounded' ? 10 : Math.min(10, ctx.target.limit);
  const problems: string[] = [];
  for (let i = 0; i < ends.length; i += wave) {
    const batch = ends.slice(i, i + wave);
    const results = await Promise.all(batch.map((end, j) => oneSession(ctx, end, `${end} ${i + j + 1}`, batch.length).catch((e: Error) => `${end} ${i + j + 1}: ${e.message}`)));
    problems.push(...results.filter((r): r is string => r !== undefined));
  }
  return problems;
}
