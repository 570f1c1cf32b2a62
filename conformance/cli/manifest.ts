import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MODELS } from '../harness/models';
import { resolveTarget, Target, TargetError, TargetSpec } from '../harness/target';
import { UsageError } from '../flags';

/**
 * A manifest lists the servers to check, e.g.
 *   { "targets": [ { "name": "my-server", "cmd": "./server --port {port}", "model": "prefork", "workers": 4 } ] }
 * A relative `cwd` is taken from the manifest's directory; commands run in that directory by default.
 */
export interface Manifest {
  targets: Target[];
  timeoutMultiplier?: number;
}

const TARGET_FIELDS: Record<keyof TargetSpec, string> = {
  name: 'a string',
  cmd: 'a command line string (absent for a server already running at host:port)',
  model: `one of ${MODELS.join(', ')}`,
  workers: 'a positive integer',
  delayMs: 'a non-negative integer (ms)',
  limit: 'a positive integer or "unbounded"',
  host: 'a string',
  port: 'an integer 1..65535',
  unix: 'a socket path',
  cwd: 'a directory path',
  env: 'an object of string values',
  readyLine: 'true or false',
  pid: 'a process id (with no cmd: the running server\'s process)',
};

function fieldError(file: string, field: string, message: string): UsageError {
  return new UsageError(`${file}: ${field} ${message}`);
}

function typeOk(key: keyof TargetSpec, value: unknown): boolean {
  switch (key) {
    case 'name':
    case 'cmd':
    case 'model':
    case 'host':
    case 'unix':
    case 'cwd':
      return typeof value === 'string';
    case 'workers':
    case 'delayMs':
    case 'port':
    case 'pid':
      return typeof value === 'number';
    case 'limit':
      return typeof value === 'number' || value === 'unbounded';
    case 'readyLine':
      return typeof value === 'boolean';
    case 'env':
      return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string');
  }
}

function readTarget(file: string, raw: unknown, index: number): Target {
  const at = `targets[${index}]`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw fieldError(file, at, 'must be an object');
  const entry = raw as Record<string, unknown>;
  for (const [key, value] of Object.entries(entry)) {
    if (!(key in TARGET_FIELDS)) throw fieldError(file, `${at}.${key}`, `is not a known field (known: ${Object.keys(TARGET_FIELDS).join(', ')})`);
    const field = key as keyof TargetSpec;
    if (!typeOk(field, value)) throw fieldError(file, `${at}.${key}`, `must be ${TARGET_FIELDS[field]}, got ${JSON.stringify(value)}`);
  }
  for (const required of ['model'] as const) {
    if (entry[required] === undefined) throw fieldError(file, `${at}.${required}`, `is required (${TARGET_FIELDS[required]})`);
  }
  const spec = entry as unknown as TargetSpec;
  try {
    return resolveTarget({
      ...spec,
      name: spec.name ?? `target ${index + 1}`,
      cwd: resolve(dirname(file), spec.cwd ?? '.'),
    });
  } catch (err) {
    // resolveTarget names the field; put it in the manifest's terms
    if (err instanceof TargetError) throw fieldError(file, `${at}.${err.message.split(' ')[0]}`, err.message.split(' ').slice(1).join(' '));
    throw err;
  }
}

/** Parses and validates a manifest; every error names the file and the bad field. */
export function parseManifest(text: string, file: string): Manifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new UsageError(`${file}: must be a JSON object with a "targets" array`);
  const top = json as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (key !== 'targets' && key !== 'timeoutMultiplier') throw fieldError(file, key, 'is not a known field (known: targets, timeoutMultiplier)');
  }
  if (!Array.isArray(top.targets) || top.targets.length === 0) throw fieldError(file, 'targets', 'must be a non-empty array of targets');
  const m = top.timeoutMultiplier;
  if (m !== undefined && (typeof m !== 'number' || !(m > 0))) throw fieldError(file, 'timeoutMultiplier', `must be a positive number, got ${JSON.stringify(m)}`);
  const targets = top.targets.map((t, i) => readTarget(file, t, i));
  const seen = new Set<string>();
  targets.forEach((t, i) => {
    if (seen.has(t.name)) throw fieldError(file, `targets[${i}].name`, `"${t.name}" is used twice; names must be unique`);
    seen.add(t.name);
  });
  return { targets, timeoutMultiplier: m as number | undefined };
}

/** Reads a manifest file; a missing or unreadable file is a usage error. */
export function loadManifest(file: string): Manifest {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read manifest ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseManifest(text, file);
}
