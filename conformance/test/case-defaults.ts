import { ConformanceCase } from '../cases/types';

/** The declared fields of a case that a test of the runner or the reports does not look at. */
export const caseDefaults: Pick<ConformanceCase, 'requirement' | 'appliesTo' | 'tags'> = {
  requirement: [],
  appliesTo: { models: 'all' },
  tags: [],
};
