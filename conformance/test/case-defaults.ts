import { ConformanceCase } from '../cases/types';

/** The declared fields of a case that a test of the runner or the reports does not look at. */
export const caseDefaults: Pick<ConformanceCase, 'requirement' | 'appliesTo' | 'tags' | 'description' | 'expectation' | 'why' | 'commonCauses'> = {
  requirement: [],
  appliesTo: { models: 'all' },
  tags: [],
  description: 'a fixture of a test of the kit, not a conformance case',
  expectation: 'what the test asserts',
  why: 'it exercises the runner or the reports',
  commonCauses: [],
};
