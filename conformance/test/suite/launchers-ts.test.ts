import { describeLaunchStyles } from './launch-styles';

// Every TypeScript reference server started through npx, sh -c, bash -c and a Node launcher.
describeLaunchStyles('ts');
