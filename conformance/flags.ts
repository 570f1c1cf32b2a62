import { parseArgs, ParseArgsConfig } from 'node:util';

/** A mistake in how the CLI was called; reported as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with errors turned into UsageError (no stack trace for a typo). */
export function parseFlags<O extends Options>(
  args: string[],
  options: O,
  allowPositionals = false,
): { values: ReturnType<typeof parseArgs<{ options: O; strict: true }>>['values']; positionals: string[] } {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^.*?: /, '').split('\n')[0]);
  }
}

/** Flags that each take a string value, named in one line: `{ ...stringFlags('port', 'delay-ms') }`. */
export function stringFlags<N extends string>(...names: N[]): { [K in N]: { type: 'string' } } {
  return Object.fromEntries(names.map((name) => [name, { type: 'string' }])) as { [K in N]: { type: 'string' } };
}

/** -h, --help, which every command takes. */
export const HELP_FLAG = { help: { type: 'boolean', short: 'h' } } as const;

/** Reads an integer flag, or undefined when absent. */
export function intFlag(value: string | boolean | undefined, name: string, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || n < min) {
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${String(value)}"`);
  }
  return n;
}

/** Writes a command's help when it was asked for (-h, --help): true when it was, and the command is done. */
export function helpAsked(values: { help?: boolean }, help: string): boolean {
  if (values.help) process.stdout.write(`${help}\n`);
  return values.help === true;
}
