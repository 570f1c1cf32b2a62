import { ProtocolClient } from './client';
import { readUnixQueues } from './listen-backlog';
import { readTcpTable, TcpRow } from './procfs';

/** What the server's process has done with one client's connection, in bytes. */
export interface ServerProgress {
  /** bytes the server has read from the connection */
  read: number;
  /** bytes the server has written to it */
  wrote: number;
  /** bytes waiting in the server's receive queue */
  unread: number;
  /** bytes the server has written that wait in its send queue */
  unsent: number;
}

/**
 * Counts the bytes a server has read from and written to `client`'s loopback connection, from the
 * client's own counts and both ends' rows in the socket table. Queue lengths alone cannot tell: a full
 * receive queue refills from the sender's the moment the server reads. Undefined when a row or Node's
 * count is missing (no /proc, another network namespace, a row skipped by a paged read).
 */
export function serverProgress(client: ProtocolClient, rows?: TcpRow[]): ServerProgress | undefined {
  if (client.unixInode !== undefined) return unixServerProgress(client);
  rows ??= readTcpTable('self');
  const sent = client.sentToKernel();
  const ours = rows.find((r) => r.localPort === client.localPort && r.remotePort === client.remotePort);
  const theirs = rows.find((r) => r.localPort === client.remotePort && r.remotePort === client.localPort);
  if (sent === undefined || ours === undefined || theirs === undefined) return undefined;
  return {
    // sent by us = still in our send queue + in the server's receive queue + read by the server
    read: sent - ours.txQueue - theirs.rxQueue,
    // written by the server = still in its send queue + in our receive queue + taken by Node
    wrote: theirs.txQueue + ours.rxQueue + client.socket.readableLength + client.received.length,
    unread: theirs.rxQueue,
    unsent: theirs.txQueue,
  };
}

/**
 * serverProgress over a Unix socket, from both ends' receive queues as sock_diag reports them (ss): a
 * Unix stream has no send queue, what one end writes waits in the other's receive queue (charged to the
 * writer's buffer), so the acks the server wrote that we have not read are its unsent ones. Undefined
 * where ss is missing or a row is.
 */
function unixServerProgress(client: ProtocolClient): ServerProgress | undefined {
  const sent = client.sentToKernel();
  const queues = readUnixQueues();
  const ours = client.unixInode === undefined ? undefined : queues?.get(client.unixInode);
  const theirs = ours === undefined ? undefined : queues?.get(ours.peer);
  if (sent === undefined || ours === undefined || theirs === undefined) return undefined;
  return {
    read: sent - theirs.recvQ,
    wrote: ours.recvQ + client.socket.readableLength + client.received.length,
    unread: theirs.recvQ,
    unsent: ours.recvQ,
  };
}
