/** Public API of the server-models conformance kit. */
export { describeConformance } from './jest/describe-conformance';
export type { ConformanceOptions } from './jest/describe-conformance';
export { runCase, runSuite } from './runner';
export { allCases, findCase, matchCases } from './cases';
export type { CaseResult, ConformanceCase, Level, Outcome } from './cases/types';
export { resolveTarget } from './harness/target';
export type { TargetSpec, Target } from './harness/target';
export { launchTarget, stopAllTargets, LaunchError } from './harness/launcher';
export type { LaunchedTarget } from './harness/launcher';
export { ProtocolClient } from './harness/client';
export { frame } from './harness/framing';
export { classifyClose } from './harness/close-kind';
export type { CloseKind } from './harness/close-kind';
export { makeDeadlines, resolveMultiplier } from './harness/deadlines';
export type { Deadlines } from './harness/deadlines';
export { MODELS } from './harness/models';
export type { ModelName } from './harness/models';
export { referenceTarget, referenceTargets } from './reference';
