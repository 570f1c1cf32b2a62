import { readFileSync } from 'node:fs';
import { readProcess, USER_HZ } from './procfs';

/**
 * What the machine's CPUs spent on programs other than the server and this kit while a case ran. A
 * deadline the server missed while other programs took a good part of the machine (a build, a CPU
 * hog, another test run) says more about the machine than about the server: such a miss is not
 * judged (see CaseLate).
 */

/** Share of all the machine's CPU time above which outside programs are said to have loaded it: half a core of two. */
export const OUTSIDE_LOAD_BOUND = 0.25;

interface Sample {
  /** all ticks of all CPUs, and those not idle */
  total: number;
  busy: number;
  /** the server's tree, itself and what it reaped; the kit process */
  server: number;
  kit: number;
}

function machineTicks(): { total: number; busy: number } | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  const f = text.slice(0, text.indexOf('\n')).trim().split(/\s+/).slice(1, 9).map(Number);
  if (f.length < 8 || f.some((n) => !Number.isFinite(n))) return undefined;
  const total = f.reduce((a, b) => a + b, 0);
  return { total, busy: total - f[3] - f[4] }; // idle and iowait are not busy
}

function sample(memberPids: () => number[]): Sample | undefined {
  const machine = machineTicks();
  if (!machine) return undefined;
  let server = 0;
  for (const pid of memberPids()) {
    const p = readProcess(pid);
    if (p) server += p.cpuTicks + p.reapedTicks;
  }
  const kit = process.cpuUsage();
  return { ...machine, server, kit: ((kit.user + kit.system) / 1e6) * USER_HZ };
}

export interface OutsideLoad {
  /** share of the machine's CPU time (0 to 1) other programs used since the watch began; undefined without /proc/stat */
  share(): number | undefined;
}

/** Starts watching; `memberPids` lists the server's processes (read at the start and at each look). */
export function watchOutsideLoad(memberPids: () => number[]): OutsideLoad {
  const first = sample(memberPids);
  return {
    share() {
      const now = sample(memberPids);
      if (!first || !now || now.total <= first.total) return undefined;
      const outside = (now.busy - first.busy) - (now.server - first.server) - (now.kit - first.kit);
      return Math.min(1, Math.max(0, outside / (now.total - first.total)));
    },
  };
}
