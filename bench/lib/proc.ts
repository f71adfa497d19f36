/**
 * CPU time of the processes under test, from /proc (Linux): what the cluster benches divide by the
 * orders they sent, a figure a busy machine distorts far less than rates and latencies.
 */
import { readFile } from 'node:fs/promises';

/** CPU ms (user + system) of one process so far; NaN when it is gone (or not on Linux). */
export async function cpuMsOf(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name "(…)": utime and stime are the 14th and 15th of the line
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return Number.NaN;
  }
}

/** Resident memory of one process (MB); null when it is gone (or not on Linux). */
export async function rssMbOf(pid: number): Promise<number | null> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? null : Math.round(Number(kb) / 1024);
  } catch {
    return null;
  }
}

export interface CpuSample {
  /** performance.now() when taken */
  at: number;
  ms: Map<string, number>;
}

/** Every named process's CPU ms at one moment. */
export async function sampleCpu(processes: readonly { name: string; pid: number }[]): Promise<CpuSample> {
  const ms = new Map(await Promise.all(processes.map(async (p) => [p.name, await cpuMsOf(p.pid)] as const)));
  return { at: performance.now(), ms };
}

/**
 * CPU µs per request of each process over `load` (two samples), less what it burnt idle per
 * second over `idle` (two samples taken with no requests) for as long; busiest first. Processes
 * that died in between are left out.
 */
export function cpuPerRequest(
  idle: readonly [CpuSample, CpuSample],
  load: readonly [CpuSample, CpuSample],
  requests: number,
): { name: string; usPerRequest: number }[] {
  const idleSeconds = (idle[1].at - idle[0].at) / 1000;
  const loadSeconds = (load[1].at - load[0].at) / 1000;
  return [...load[1].ms.keys()]
    .map((name) => {
      const idleMsPerSecond =
        idleSeconds > 0 ? (idle[1].ms.get(name)! - idle[0].ms.get(name)!) / idleSeconds : 0;
      const used = load[1].ms.get(name)! - load[0].ms.get(name)! - idleMsPerSecond * loadSeconds;
      return { name, usPerRequest: (Math.max(0, used) * 1000) / requests };
    })
    .filter((p) => Number.isFinite(p.usPerRequest))
    .sort((a, b) => b.usPerRequest - a.usPerRequest);
}
