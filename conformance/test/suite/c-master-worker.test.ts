import { describeReference } from './reference-suite';

describeReference('master-worker', 'c');
