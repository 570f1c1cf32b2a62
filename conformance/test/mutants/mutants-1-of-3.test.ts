import { mutants } from '../../../fixtures/mutants/catalogue';
import { describeMutants, mutantGroup } from './mutant-suite';

describeMutants('group 1 of 3', mutantGroup(mutants, 0, 3));
