import { mutants } from '../../../fixtures/mutants/catalogue';
import { describeMutants, mutantGroup } from './mutant-suite';

describeMutants('group 2 of 3', mutantGroup(mutants, 1, 3));
