import { readFileSync } from 'node:fs';

/** Resident set size of process `pid` in MB, from /proc/<pid>/status (VmRSS); null where there is no /proc. */
export function rssMb(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}
