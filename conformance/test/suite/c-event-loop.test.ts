import { describeReference } from './reference-suite';

describeReference('event-loop', 'c');
