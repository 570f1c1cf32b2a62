import { describeReference } from './reference-suite';

describeReference('thread-pool', 'c');
