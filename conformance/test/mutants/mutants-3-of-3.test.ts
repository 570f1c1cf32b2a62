import { mutants } from '../../../fixtures/mutants/catalogue';
import { describeMutants, mutantGroup } from './mutant-suite';

describeMutants('group 3 of 3', mutantGroup(mutants, 2, 3));
