import { readTcpTable, TcpRow } from './procfs';

/** How a connection ended, from the kernel's view of our own socket. */
export type CloseKind = 'fin' | 'rst' | 'open';

/**
 * Decides whether the peer sent FIN or RST once Node reports the end of the stream.
 * Node's 'end' alone proves nothing (libuv synthesises EOF from EPOLLHUP when an RST arrives with
 * data), so look the socket up in /proc/self/net/tcp{,6}: CLOSE_WAIT means the peer's FIN arrived and
 * we have not closed; no row means the kernel dropped the socket after an RST.
 */
export function classifyClose(localPort: number, remotePort: number, rows: TcpRow[] = readTcpTable('self')): CloseKind {
  const row = rows.find((r) => r.localPort === localPort && r.remotePort === remotePort);
  if (!row) return 'rst';
  if (row.state === 'CLOSE_WAIT' || row.state === 'LAST_ACK' || row.state === 'TIME_WAIT' || row.state === 'CLOSING') {
    return 'fin';
  }
  return 'open';
}
