import { describeLaunchStyles } from './launch-styles';

// TypeScript reference servers started through npx, sh -c, bash -c and a Node launcher (the pools in
// `npm test`, all six in `npm run test:full`).
describeLaunchStyles('ts');
