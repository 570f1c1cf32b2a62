import { describeReference } from './reference-suite';

describeReference('fork-per-connection', 'c');
