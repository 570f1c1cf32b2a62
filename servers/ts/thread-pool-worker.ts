// A thread-pool worker thread: takes one whole session at a time and works it like a pthread would,
// really blocked during each work delay. Sockets cannot move between threads, so the main thread
// relays the client's bytes in and writes the acks we send back (see thread-pool-relay.ts).
import { parentPort, workerData, type MessagePort } from 'worker_threads';
import { MessageFramer } from './protocol';
import type { SessionAssignment, SessionCommand, SocketEvent } from './thread-pool-messages';
import { MAX_OWED_BEFORE_PAUSE, type SessionLimits } from './session';

const limits = workerData as SessionLimits;
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** sleep(3) for a thread: blocks this thread, nobody ever wakes the cell early. */
function blockingSleep(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

function serveSession(port: MessagePort): void {
  const framer = new MessageFramer(limits.maxMessageBytes);
  let owed = 0;
  let ending = false;
  let over = false;
  let stepScheduled = false;
  let writeBlocked = false;
  /** Relayed bytes framed but not yet reported: held back while too many acks are owed. */
  let unreportedBytes = 0;
  const send = (command: SessionCommand): void => port.postMessage(command);

  // The main thread stops reading the client while our reports lag: we take input as fast as we answer.
  function reportConsumed(): void {
    if (unreportedBytes > 0 && owed <= MAX_OWED_BEFORE_PAUSE) {
      send({ type: 'consumed', bytes: unreportedBytes });
      unreportedBytes = 0;
    }
  }

  function finishSession(): void {
    over = true;
    send({ type: 'done' });
    port.close();
  }

  // One message per step; between steps the event loop delivers whatever the client sent meanwhile.
  function step(): void {
    stepScheduled = false;
    if (over || writeBlocked) return;
    if (owed > 0) {
      blockingSleep(limits.delayMs);
      // At delay 0 every owed message is done at once: one relay message instead of thousands.
      const count = limits.delayMs > 0 ? 1 : owed;
      owed -= count;
      send({ type: 'ack', count });
      reportConsumed();
      schedule();
    } else if (ending) {
      send({ type: 'end' });
      finishSession();
    }
  }

  function schedule(): void {
    if (!stepScheduled && !over) {
      stepScheduled = true;
      setImmediate(step);
    }
  }

  port.on('message', (event: SocketEvent) => {
    if (over) return;
    if (event.type === 'data') {
      unreportedBytes += event.bytes.byteLength;
      if (!ending) {
        const frame = framer.push(event.bytes);
        if (frame.overflow) {
          send({ type: 'overflow' });
          finishSession();
          return;
        }
        owed += frame.messages;
        if (frame.goodbye) ending = true;
      } // else: after goodbye, EOF or drain, input is dropped
      reportConsumed();
    } else if (event.type === 'abort') {
      finishSession();
      return;
    } else if (event.type === 'write-blocked' || event.type === 'write-drained') {
      writeBlocked = event.type === 'write-blocked';
    } else {
      ending = true; // 'eof' or 'finish'
    }
    schedule();
  });
}

parentPort?.on('message', (assignment: SessionAssignment) => serveSession(assignment.port));
