import { readFileSync } from 'node:fs';
import getPort = require('get-port');

/** Inclusive range of ports, [from, to]. */
export type PortRange = readonly [number, number];

const FIRST_UNPRIVILEGED_PORT = 1024;
const LAST_PORT = 65535;
/** Below this many ports outside the ephemeral range, picking among them is not worth it. */
const MIN_OUTSIDE_PORTS = 1000;
const CANDIDATES = 32;

/** The kernel's range for ports it assigns by itself (`connect()` without `bind()`), if readable. */
export function readEphemeralRange(path = '/proc/sys/net/ipv4/ip_local_port_range'): PortRange | undefined {
  try {
    const [from, to] = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
    return Number.isInteger(from) && Number.isInteger(to) && from <= to ? [from, to] : undefined;
  } catch {
    return undefined;
  }
}

/** The unprivileged ports the kernel never hands out by itself: those outside the ephemeral range. */
export function portsOutside(ephemeral: PortRange): PortRange[] {
  const ranges: PortRange[] = [];
  if (ephemeral[0] > FIRST_UNPRIVILEGED_PORT) ranges.push([FIRST_UNPRIVILEGED_PORT, ephemeral[0] - 1]);
  if (ephemeral[1] < LAST_PORT) ranges.push([Math.max(ephemeral[1] + 1, FIRST_UNPRIVILEGED_PORT), LAST_PORT]);
  return ranges.filter(([from, to]) => from <= to);
}

/** How many ports `ranges` hold together. */
export function portCount(ranges: PortRange[]): number {
  return ranges.reduce((n, [from, to]) => n + to - from + 1, 0);
}

/** `count` ports drawn at random from `ranges`, as if they were one range. */
export function randomPorts(ranges: PortRange[], count: number, random: () => number = Math.random): number[] {
  const size = portCount(ranges);
  const ports: number[] = [];
  for (let i = 0; i < count && size > 0; i++) {
    let k = Math.floor(random() * size);
    for (const [from, to] of ranges) {
      if (k <= to - from) {
        ports.push(from + k);
        break;
      }
      k -= to - from + 1;
    }
  }
  return ports;
}

/**
 * A port free on `host` for the server under test. It is drawn from outside the kernel's ephemeral
 * range: a port inside it can be taken, between our check and the server's `listen()`, as the local
 * port of any outgoing connection — and the kit's own clients make thousands of them.
 */
export async function pickFreePort(host: string, ephemeral = readEphemeralRange(), random: () => number = Math.random): Promise<number> {
  const outside = ephemeral ? portsOutside(ephemeral) : [];
  const size = portCount(outside);
  // get-port tries the candidates in turn and falls back to a port the kernel picks
  return getPort({ host, port: size >= MIN_OUTSIDE_PORTS ? randomPorts(outside, CANDIDATES, random) : undefined });
}
