import { describeLaunchStyles } from './launch-styles';

// C reference servers started through npx, sh -c, bash -c and a Node launcher: one pool server a
// style in `npm test`, the other in `npm run test:long`, all six in `npm run test:full`.
describeLaunchStyles('c');
