import { CaseBlocked, ConformanceCase, check } from './types';
import { clientEvidence, connectionOf, describeReceived, expectExactly, expectFinAfter, howServerEnded, UNIX_ENDS } from './evidence';
import { frame } from '../harness/framing';
import { pollUntil } from '../harness/deadlines';
import { readTcpTable } from '../harness/procfs';
import { ProtocolClient } from '../harness/client';
import { sampleTree, sessionInodes } from '../harness/tree-probe';
import { CaseContext } from './types';

/** What expectStillServing checks, in the words of the cases that end with it. */
const STILL_SERVING = 'The server process is still alive, and the new client gets its ack within (D + 4 s) × multiplier; ' +
  'a live server gets that time once more with the machine to itself before it fails.';

/**
 * After a disturbance, a new client must still be served by the same server process. The probe waits
 * until the writes that could kill the server are due (`owedDelays` work delays: an ack written to a
 * client that left raises SIGPIPE then), so a server that dies of them is not seen alive a moment early.
 */
export async function expectStillServing(ctx: CaseContext, owedDelays: number, what: string): Promise<void> {
  const d = ctx.deadlines;
  // Not a wait for a condition: the danger is over only once the owed writes have been tried. Ends at once if the server dies.
  await pollUntil(() => !ctx.server.serverAlive(), owedDelays * d.delayMs + Math.min(d.delayMs, 100), 20);
  const died = (): string => `the server died (${howServerEnded(ctx.server)})`;
  check(ctx.server.serverAlive(), `the server alive after ${what}`, died());
  const next = await ctx.connect('next client');
  await next.send('are you still there?');
  // Survival, not speed, is the question: the deadline is generous (a server that died is noticed
  // at once), so a busy machine is not mistaken for a dead server.
  const deadline = d.ack(1) + 2 * d.slack();
  const answered = (): boolean => next.acks >= 1 || !ctx.server.serverAlive();
  // A process per connection may not get the CPU to start among other cases: the same wait again with
  // the machine alone before a live server is called unresponsive.
  if (!(await pollUntil(answered, deadline))) await ctx.alone(() => pollUntil(answered, deadline));
  check(next.acks === 1 && ctx.server.serverAlive(), `a new client served by the same server process within ${deadline} ms after ${what}`,
    ctx.server.serverAlive() ? describeReceived(next) : died(), clientEvidence(next));
}

/**
 * close.eof.full-close over a Unix socket, whose client socket has no FIN_WAIT2 to watch: the server's
 * socket of the connection (the session socket that appeared in the tree as `client` connected, after
 * `before`) must be closed by every process of the tree once the client has closed.
 */
async function serverSocketClosed(ctx: CaseContext, client: ProtocolClient, before: ReturnType<typeof sampleTree>): Promise<void> {
  const had = sessionInodes(before);
  const ours = [...sessionInodes(sampleTree(ctx.server))].filter((inode) => !had.has(inode));
  if (ours.length === 0) throw new CaseBlocked('the server\'s socket of the connection was not found among the descriptors of its tree', [], connectionOf(client));
  client.close();
  const stillHeld = (): number[] => { const now = sessionInodes(sampleTree(ctx.server)); return ours.filter((inode) => now.has(inode)); };
  const closed = await pollUntil(() => stillHeld().length === 0, ctx.deadlines.close());
  check(closed, `the server to close its side within ${ctx.deadlines.close()} ms after the client closed`,
    `the server still holds its socket of the connection (socket:[${stillHeld().join('], socket:[')}]): it never closed it`, connectionOf(client));
}

/** close.*: the server closes gracefully (FIN) when it should, and survives clients that don't. */
export const closeCases: ConformanceCase[] = [
  {
    id: 'close.goodbye.fin', level: 'MUST', requirement: ['R3.2', 'R0.1'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'the server answers "goodbye" with FIN: never RST, never silence',
    description: 'Opens one client and sends "goodbye". It waits for the connection to end and reads the state of its own ' +
      'socket in /proc/self/net/tcp to tell a FIN from an RST. Over a Unix socket it reads its socket once more instead: ' +
      'the end of file is the FIN, ECONNRESET the RST.',
    expectation: 'No byte, then a FIN within (D + 2 s) × multiplier. An RST, or no close at all in that time, fails. ' + UNIX_ENDS,
    why: 'An RST makes the client library report "connection reset by peer", so every clean logout shows up as an error in ' +
      'client logs and alerts. It can also discard data still on its way to the client.',
    commonCauses: [
      'SO_LINGER set with a zero timeout (abortive close)',
      'close() while unread bytes sit in the receive buffer, which makes the kernel send RST',
      'socket.resetAndDestroy() (Node) used to end the session',
      'goodbye not recognised, so the connection stays open',
    ],
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.send('goodbye');
      await expectFinAfter(c, '', deadlines.close());
    },
  },
  {
    id: 'close.eof.after-acks', level: 'MUST', requirement: ['R4.1', 'R0.1'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'after the client half-closes, the server sends the acks it owes, then FIN',
    description: 'Opens one client, writes "first" and "second" with their ETX in one write, then shuts down its sending side ' +
      '(half-close) and keeps reading.',
    expectation: 'Exactly "ackack", then a FIN, within (3 × D + 4 s) × multiplier of the half-close: ' +
      'the allowance for two acks (2 × D + 2 s) plus the close allowance (D + 2 s), both × multiplier. ' + UNIX_ENDS,
    why: 'Many clients call shutdown(SHUT_WR) after their last request and then wait for the answers. ' +
      'A server that closes as soon as read() returns 0 loses those answers; ' +
      'one that never closes leaves the client waiting for the end of the stream.',
    commonCauses: [
      'read() returning 0 handled by an immediate close, dropping owed acks',
      'work in progress cancelled at end of stream (timers cleared, worker interrupted)',
      'Node server without allowHalfOpen, so the socket ends itself on the client\'s FIN',
      'session closed only on goodbye, never after end of stream',
    ],
    async run({ connect, deadlines }) {
      const c = await connect();
      await c.write(Buffer.concat([frame('first'), frame('second')]));
      c.endWriting();
      await expectFinAfter(c, 'ackack', deadlines.ack(2) + deadlines.close());
    },
  },
  {
    id: 'close.eof.idle', level: 'MUST', requirement: ['R4.2', 'R0.1'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'a client that connects and half-closes without a message gets FIN',
    description: 'Opens one client that sends nothing and at once shuts down its sending side (half-close). ' +
      'It waits for the server to close.',
    expectation: 'No byte, then a FIN within (D + 2 s) × multiplier of the half-close. ' + UNIX_ENDS,
    why: 'Clients that connect and give up without a request are routine. ' +
      'A server that ignores the end of their stream keeps each such session for ever, or spins on a socket that is always ' +
      'readable: a descriptor or a CPU core lost per client.',
    commonCauses: [
      'read() returning 0 not handled, so the session waits for ever',
      'a 0-byte read taken for "no data yet" and retried at once (spins)',
      'session closed only on goodbye',
      'end of stream before any message treated as an error path that skips the close',
    ],
    async run({ connect, deadlines }) {
      const c = await connect();
      c.endWriting();
      await expectFinAfter(c, '', deadlines.close());
    },
  },
  {
    id: 'close.eof.full-close', level: 'MUST', requirement: ['R4.3', 'R0.1'],
    appliesTo: { models: 'all' }, tags: ['procfs'],
    sharesServer: true,
    title: 'a client that closes fully sees the server close too (its socket leaves FIN_WAIT2)',
    description: 'Opens one client, sends one message and waits for its ack. ' +
      'Then the client closes its socket fully, and the case watches the state of that socket in /proc/self/net/tcp. ' +
      'Over a Unix socket, which has no FIN_WAIT2, it watches instead the server tree\'s socket of that connection: ' +
      'the session socket that appeared among the tree\'s descriptors when the client connected.',
    expectation: 'The ack within (D + 2 s) × multiplier. After the client\'s close, the server closes its side within ' +
      '(D + 2 s) × multiplier: the client\'s socket leaves FIN_WAIT1 and FIN_WAIT2 (over a Unix socket: no process of the ' +
      'tree holds the server\'s socket of that connection any more). ' +
      'Whether the server sends FIN or RST is not judged.',
    why: 'A server socket left in CLOSE_WAIT keeps its descriptor for ever. ' +
      'Every client that leaves without goodbye leaks one, and after a few thousand the server can accept nobody.',
    commonCauses: [
      'read() returning 0 not followed by close()',
      'socket closed only on goodbye',
      'Node socket with allowHalfOpen: true that never calls end() on \'end\'',
      'error path that returns from the session without close()',
    ],
    async run(ctx) {
      const { connect, deadlines } = ctx;
      const before = ctx.server.endpoint.path !== undefined ? sampleTree(ctx.server) : undefined;
      const c = await connect();
      await c.send('one');
      await expectExactly(c, 'ack', deadlines.ack(1), 0);
      if (before !== undefined) return serverSocketClosed(ctx, c, before);
      c.close();
      // Our closed socket waits in FIN_WAIT2 until the server's FIN arrives (then TIME_WAIT).
      const state = (): string | undefined =>
        readTcpTable('self').find((r) => r.localPort === c.localPort && r.remotePort === c.remotePort)?.state;
      const closed = await pollUntil(() => { const s = state(); return s !== 'FIN_WAIT1' && s !== 'FIN_WAIT2'; }, deadlines.close());
      check(closed, `the server to close its side within ${deadlines.close()} ms after the client closed`,
        `our socket still in ${state()}: the server never closed (it keeps the socket in CLOSE_WAIT)`, connectionOf(c));
    },
  },
  {
    id: 'close.rst.server-survives', level: 'MUST', requirement: ['R5.1'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'a client that resets its connection mid-message does not disturb the server',
    description: 'Opens one client that sends a whole message, then half a message with no ETX, then resets the connection ' +
      '(RST). After D + min(D, 100 ms), when the owed ack is due, a new client sends one message. ' +
      'Over a Unix socket, which has no reset, the client closes at once instead: the server reads the end of file in the ' +
      'middle of a message, and its ack fails with EPIPE.',
    expectation: STILL_SERVING,
    why: 'Resets are routine: a killed client, a mobile link that drops, a load balancer timing out. ' +
      'If one reset kills the server, every other user loses their session and the service is down until it restarts.',
    commonCauses: [
      'no \'error\' listener on a Node socket, so ECONNRESET is thrown',
      'exit() on any read() or write() error',
      'uncaught exception in a session thread or coroutine that ends the process',
      'SIGPIPE not ignored when the owed ack is written to the reset socket',
    ],
    async run(ctx) {
      const c = await ctx.connect('resetting client');
      await c.send('about to vanish');
      await c.write('half a mess');
      c.reset();
      await expectStillServing(ctx, 1, 'a client reset');
    },
  },
  {
    id: 'close.connect-close.server-survives', level: 'MUST', requirement: ['R5.2'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'clients that connect and close at once do not disturb the server',
    description: 'Opens five clients one after another, each closed as soon as it is connected, without sending a byte. ' +
      'After min(D, 100 ms), a new client sends one message.',
    expectation: STILL_SERVING,
    why: 'Health checks, port scanners and load balancer probes connect and close without a byte, many times a minute. ' +
      'A server that crashes on them is taken down by its own monitoring.',
    commonCauses: [
      'a read of 0 bytes taken for a fatal error',
      'session state (buffer, parser) used before any data arrived',
      'accept() error such as ECONNABORTED treated as fatal',
      'getpeername() or setsockopt() on an already closed socket failing and exiting',
    ],
    async run(ctx) {
      for (let i = 0; i < 5; i++) (await ctx.connect(`connect-then-close ${i + 1}`)).close();
      await expectStillServing(ctx, 0, 'five connect-then-close clients');
    },
  },
  {
    id: 'close.leave-before-ack.server-survives', level: 'MUST', requirement: ['R5.3'],
    appliesTo: { models: 'all' }, tags: [],
    sharesServer: true,
    title: 'a client that leaves before its acks arrive (the server writes to a reset socket) does not kill the server',
    description: 'Opens one client that writes three messages in one write and closes at once, before any ack, so the server ' +
      'writes its acks to a closed and then reset socket. After 3 × D + min(D, 100 ms), a new client sends one message. ' +
      'Over a Unix socket the server\'s first write to the closed socket already fails with EPIPE.',
    expectation: STILL_SERVING,
    why: 'Users close tabs, kill clients and time out while their requests are being worked. ' +
      'A server that dies when it writes to such a socket goes down many times a day, and every other session with it.',
    commonCauses: [
      'SIGPIPE neither ignored nor avoided with MSG_NOSIGNAL',
      'EPIPE or ECONNRESET from write() treated as fatal',
      'write to a destroyed Node socket that has no \'error\' listener',
      'unhandled rejection of a failed write that ends the process',
    ],
    async run(ctx) {
      const c = await ctx.connect('leaving client');
      await c.write(Buffer.concat([frame('first'), frame('second'), frame('third')]));
      c.close();
      await expectStillServing(ctx, 3, 'a client left before its acks (EPIPE / SIGPIPE on the server)');
    },
  },
];
