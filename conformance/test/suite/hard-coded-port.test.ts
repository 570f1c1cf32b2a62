import { describeConformance } from '../../jest/describe-conformance';
import { findCase } from '../../cases';
import { ConformanceCase } from '../../cases/types';
import { referenceServerPath } from '../../reference';

// A target without {port}: the server hard-codes port 3000 and a 1000 ms delay, as many students' servers do.
describeConformance(
  {
    name: 'hard-coded port 3000, delay 1000 ms',
    cmd: `${JSON.stringify(process.execPath)} ${JSON.stringify(referenceServerPath('event-loop', 'ts'))} --port 3000 --delay-ms 1000`,
    model: 'event-loop',
    delayMs: 1000,
  },
  { cases: ['protocol.ack.single', 'close.goodbye.fin', 'concurrency.limit'].map((id) => findCase(id) as ConformanceCase) },
);
