import { describeLaunchStyles } from './launch-styles';

// Every C reference server started through npx, sh -c, bash -c and a Node launcher.
describeLaunchStyles('c');
