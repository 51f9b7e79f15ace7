import { Client } from 'pg';
import { cpuMs } from './processes';

/**
 * CPU time a server spends, from the kernel's accounting (/proc/<pid>/stat: utime + stime, 10 ms
 * ticks): of the server's process, and on PostgreSQL also of the database backends serving its
 * database (they do the app's queries in processes of their own). Per completed request or payment,
 * it is the figure to compare with the floor: a ratio of CPU does not depend on how busy the machine
 * was, as throughput does. PostgreSQL's shared processes (WAL writer, checkpointer) are not counted.
 */
export interface CpuReading {
  processMs: number;
  /** PostgreSQL backends of the server's database; 0 for the floor and the embedded database. */
  databaseMs: number;
}

export interface CpuSource {
  pids: number[];
  /** PostgreSQL: the admin URL and the database whose backends count. */
  postgres?: { adminUrl: string; database: string };
}

/** Starts counting; `stop()` returns the CPU used since. */
export async function startCpuMeter(source: CpuSource): Promise<{ stop(): Promise<CpuReading> }> {
  const processStart = source.pids.map((pid) => cpuMs(pid) ?? 0);
  const backendsStart = source.postgres ? await backendCpu(source.postgres) : new Map<number, number>();
  return {
    async stop() {
      const processMs = source.pids.reduce((sum, pid, i) => sum + ((cpuMs(pid) ?? processStart[i]) - processStart[i]), 0);
      let databaseMs = 0;
      if (source.postgres) {
        // A backend that started during the run counts from zero; one that ended during it is lost
        // (the app's pool keeps its connections for 30 s idle, so under load none ends).
        for (const [pid, ms] of await backendCpu(source.postgres)) databaseMs += ms - (backendsStart.get(pid) ?? 0);
      }
      return { processMs, databaseMs };
    },
  };
}

/** pid → CPU ms of each client backend connected to `database`. */
async function backendCpu(postgres: { adminUrl: string; database: string }): Promise<Map<number, number>> {
  const client = new Client({ connectionString: postgres.adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'", [postgres.database]);
    const cpu = new Map<number, number>();
    for (const { pid } of rows) {
      const ms = cpuMs(pid);
      if (ms !== null) cpu.set(pid, ms);
    }
    return cpu;
  } finally {
    await client.end();
  }
}
