import { describeReference } from './reference-suite';

describeReference('prefork', 'c');
