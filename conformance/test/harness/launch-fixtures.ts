import { compiledModule } from '../../harness/paths';

/** Command line that runs a compiled launch fixture with node. */
export function fixtureCommand(name: string, ...args: string[]): string {
  return [JSON.stringify(process.execPath), JSON.stringify(compiledModule(`fixtures/launch/${name}`)), ...args].join(' ');
}
