import { describeLaunchStyles } from './launch-styles';

// C reference servers started through npx, sh -c, bash -c and a Node launcher: one pool server a
// style in `npm test`, the other five in `npm run test:long`.
describeLaunchStyles('c');
