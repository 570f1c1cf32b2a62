import { ProtocolClient } from '../harness/client';
import { pollUntil } from '../harness/deadlines';
import { LaunchedTarget } from '../harness/launcher';
import { check } from './types';

/** What one client saw, as evidence for a failure report. */
export function clientEvidence(client: ProtocolClient): Record<string, unknown> {
  return {
    received: JSON.stringify(client.text.length > 60 ? `${client.text.slice(0, 60)}…` : client.text),
    bytesReceived: client.received.length,
    closeKind: client.ending?.kind ?? 'open',
    ...(client.ending ? { closedAfterMs: client.ending.at } : {}),
    ...connectionOf(client),
  };
}

/** A connection in a word: its local port, or over a Unix socket our socket's inode. */
export function connectionName(client: ProtocolClient): string {
  return client.unixPath !== undefined ? `socket:[${client.unixInode ?? '?'}]` : String(client.localPort);
}

/** Which connection, for evidence: its TCP ports, or over a Unix socket our socket's inode and the path. */
export function connectionOf(client: ProtocolClient): Record<string, string> {
  if (client.unixPath !== undefined) return { socket: `${connectionName(client)} -> ${client.unixPath}` };
  return { ports: `${client.localPort} -> ${client.remotePort}` };
}

/**
 * The sentence a case adds where it speaks of FIN and RST: what they are over a Unix socket (rule R0.1).
 */
export const UNIX_ENDS = 'Over a Unix socket, a FIN is the end of file (a read returning 0) and an RST is ECONNRESET.';

/** How a server process that is no longer alive ended: killed by a signal, its exit code, or gone. */
export function howServerEnded(server: LaunchedTarget): string {
  const exit = server.exitStatus();
  if (!exit) return `process ${server.serverPid} gone`;
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

/**
 * The client has only a beginning of `expected` (maybe nothing) and its connection is open on a live
 * server: it is still waiting, not wronged. Such a miss is judged as late (see CaseLate).
 */
export function stillWaiting(client: ProtocolClient, server: LaunchedTarget, expected = 'ack'): boolean {
  return client.ending === undefined && expected.startsWith(client.text) && server.serverAlive();
}

/** Describes received bytes for a one-line "saw …" message. */
export function describeReceived(client: ProtocolClient): string {
  const end = client.ending ? `, then ${client.ending.kind.toUpperCase()}` : '';
  return `${JSON.stringify(client.text)} (${client.received.length} bytes)${end}`;
}

/**
 * Expects exactly `expected` bytes within `deadlineMs`, and then nothing more for `quietMs`.
 * Extra bytes, wrong bytes and missing bytes all fail with the evidence.
 */
export async function expectExactly(client: ProtocolClient, expected: string, deadlineMs: number, quietMs: number): Promise<void> {
  await client.waitForBytes(expected.length, deadlineMs);
  check(client.text.startsWith(expected), `${JSON.stringify(expected)} within ${deadlineMs} ms`, describeReceived(client), clientEvidence(client));
  await pollUntil(() => client.received.length > expected.length, quietMs);
  check(client.text === expected, `exactly ${JSON.stringify(expected)}, nothing more`, describeReceived(client), clientEvidence(client));
}

/** Expects the server to close with FIN within `deadlineMs`, having sent exactly `expected` before. */
export async function expectFinAfter(client: ProtocolClient, expected: string, deadlineMs: number): Promise<void> {
  const ending = await client.waitForClose(deadlineMs);
  check(client.text === expected, `${JSON.stringify(expected)} before the close`, describeReceived(client), clientEvidence(client));
  check(ending.kind === 'fin', `FIN within ${deadlineMs} ms`, ending.kind === 'open' ? 'the connection still open' : `${ending.kind.toUpperCase()}${ending.error ? ` (${ending.error})` : ''}`, clientEvidence(client));
}

/** Expects the connection to stay open (no close, no bytes beyond `expected`) for `quietMs`. */
export async function expectStillOpen(client: ProtocolClient, expected: string, quietMs: number): Promise<void> {
  await pollUntil(() => client.ending !== undefined || client.received.length > expected.length, quietMs);
  check(client.ending === undefined, 'the connection to stay open', describeReceived(client), clientEvidence(client));
  check(client.text === expected, `exactly ${JSON.stringify(expected)}`, describeReceived(client), clientEvidence(client));
}

/** Small pause between writes so that each becomes its own TCP segment (pacing, not waiting for a condition). */
export function pace(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
