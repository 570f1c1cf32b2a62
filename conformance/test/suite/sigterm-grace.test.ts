import { ModelDefaults, defaultGraceMs, parseOptions } from '../../../servers/ts/options';
import { describeConformance } from '../../jest/describe-conformance';
import { referenceTarget } from '../../reference';

// The drain grace a reference server takes when none is given covers the messages a session has queued
// at the default 2000 ms delay too: lifecycle.sigterm leaves three owed, served one after another.
describe('the default SIGTERM grace', () => {
  test('is 4 work delays, never under 5 s; --grace-ms wins', () => {
    const defaults: ModelDefaults = { program: 'single-process', workers: null };
    expect(defaultGraceMs(200)).toBe(5000);
    expect(defaultGraceMs(2000)).toBe(8000);
    expect(parseOptions(['--delay-ms', '2000'], defaults)?.graceMs).toBe(8000);
    expect(parseOptions(['--delay-ms', '2000', '--grace-ms', '100'], defaults)?.graceMs).toBe(100);
    expect(parseOptions([], defaults)?.graceMs).toBe(8000);
  });
});

for (const lang of ['ts', 'c'] as const) {
  const spec = referenceTarget('single-process', lang, 2000);
  if (spec.available) {
    describeConformance({ ...spec, name: `${spec.name} at 2000 ms` }, { only: ['lifecycle.sigterm'], failOn: ['fail', 'warn', 'blocked'] });
  }
}
