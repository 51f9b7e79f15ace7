import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  /** 1-minute load average when the run started and when it ended: a busy machine shows here. */
  loadAverage: { start: number; end?: number };
  pglite: string;
  express: string;
  prisma: string;
  autocannon: string;
}

function packageVersion(name: string): string {
  try {
    const file = path.join(process.cwd(), 'node_modules', name, 'package.json');
    return String(JSON.parse(readFileSync(file, 'utf8')).version);
  } catch {
    return 'unknown';
  }
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model?.trim() || 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: { start: Math.round(os.loadavg()[0] * 100) / 100 },
    pglite: packageVersion('@electric-sql/pglite'),
    express: packageVersion('express'),
    prisma: packageVersion('@prisma/client'),
    autocannon: packageVersion('autocannon'),
  };
}
