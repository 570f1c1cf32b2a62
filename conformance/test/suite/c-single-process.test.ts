import { describeReference } from './reference-suite';

describeReference('single-process', 'c');
