import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../src/db/database';
import { machineInfo } from './lib/machine';
import { createBenchDatabase, postgresVersion } from './lib/postgres';

/**
 * `npm run bench:queries` (issue 13): what one hot-path statement costs the app's process in CPU,
 * sent three ways on the same pool in the same run: Prisma's query API (its query compiler builds
 * the SQL and shapes the result), `$queryRaw`/`$executeRaw` tagged templates (SQL as written,
 * through the same driver adapter), and the `pg` pool directly. On PostgreSQL and on the embedded
 * PGlite, each opened the way the app opens it (src/db/database.ts). Results: bench/README-queries.md.
 *
 * Options: --iterations N (per measurement, default 3000), --rounds N (default 3; the median is
 * reported), --postgres-url URL (or BENCH_POSTGRES_URL), --only postgres|embedded.
 */

interface Options {
  iterations: number;
  rounds: number;
  postgresUrl: string;
  only?: 'postgres' | 'embedded';
}

function parseOptions(argv: string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const only = value('--only');
  if (only !== undefined && only !== 'postgres' && only !== 'embedded') throw new Error('--only takes postgres or embedded');
  return {
    iterations: Number(value('--iterations') ?? 3000),
    rounds: Number(value('--rounds') ?? 3),
    postgresUrl: value('--postgres-url') ?? process.env.BENCH_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    only,
  };
}

type Way = 'prisma' | 'raw' | 'pg';
const WAYS: Way[] = ['prisma', 'raw', 'pg'];

/** One statement of the payment path, three ways; each call must leave the database as it found it (or grow it harmlessly). */
interface Statement {
  name: string;
  /** Where the app sends it. */
  where: string;
  run: Record<Way, () => Promise<unknown>>;
}

interface Measured {
  cpuUs: number;
  wallUs: number;
}

async function statementsFor(db: Database): Promise<Statement[]> {
  const { prisma, pool } = db;
  const shop = await prisma.shop.create({ data: { domain: `bench-${randomUUID().slice(0, 8)}.myshopify.com` } });
  const shopId = shop.id;
  // A realistic table: the looked-up session among many.
  const sessions = Array.from({ length: 2000 }, (_, i) => ({
    shopId,
    shopifyId: `bench-session-${i}`,
    gid: `gid://shopify/PaymentSession/bench-session-${i}`,
    groupId: `group-${i}`,
    amountMinor: 4200n,
    currency: 'USD',
    kind: 'SALE' as const,
    test: false,
    cancelUrl: 'https://shop.example/checkouts/c/abc/cancel',
    rawRequest: { id: `bench-session-${i}`, amount: '42.00' },
    requestFingerprint: 'f'.repeat(64),
    apiVersion: '2026-10',
    status: 'CHECKOUT_CREATED' as const,
  }));
  await prisma.paymentSession.createMany({ data: sessions });
  const target = await prisma.paymentSession.findUniqueOrThrow({ where: { shopId_shopifyId: { shopId, shopifyId: 'bench-session-1234' } } });
  const id = target.id;
  const shopifyId = target.shopifyId;
  let n = 0;
  const jobKey = () => `bench:job:${process.pid}:${n++}`;
  const jobPayload = { mutation: 'paymentSessionResolve', variables: { id: target.gid }, shopId, subject: { type: 'payment_session', id } };
  const detail = { source: 'FLEX_WEBHOOK', authorizationExpiresAt: null };

  return [
    {
      name: 'payment session by (shopId, shopifyId)',
      where: 'PaymentSessionRepository.findByShopifyId (a session request replayed; the webhook without a recorded checkout id)',
      run: {
        prisma: () => prisma.paymentSession.findUnique({ where: { shopId_shopifyId: { shopId, shopifyId } } }),
        raw: () => prisma.$queryRaw`SELECT * FROM "PaymentSession" WHERE "shopId" = ${shopId}::uuid AND "shopifyId" = ${shopifyId}`,
        pg: () => pool.query('SELECT * FROM "PaymentSession" WHERE "shopId" = $1::uuid AND "shopifyId" = $2', [shopId, shopifyId]),
      },
    },
    {
      name: 'conditional status update',
      where: 'PaymentSessionRepository.decideFinal / scheduleReconciliation: UPDATE … WHERE id = $1 AND status IN (…)',
      run: {
        prisma: () =>
          prisma.paymentSession.updateMany({ where: { id, status: { in: ['CHECKOUT_CREATED', 'PENDING'] } }, data: { nextReconcileAt: new Date() } }),
        raw: () =>
          prisma.$executeRaw`UPDATE "PaymentSession" SET "nextReconcileAt" = ${new Date()}, "updatedAt" = now() WHERE id = ${id}::uuid AND status IN ('CHECKOUT_CREATED', 'PENDING')`,
        pg: () =>
          pool.query(`UPDATE "PaymentSession" SET "nextReconcileAt" = $1, "updatedAt" = now() WHERE id = $2::uuid AND status IN ('CHECKOUT_CREATED', 'PENDING')`, [new Date(), id]),
      },
    },
    {
      name: 'timeline event insert',
      where: 'PaymentSessionRepository.addEvent (several per payment)',
      run: {
        prisma: () => prisma.paymentEvent.create({ data: { paymentSessionId: id, type: 'bench', detail } }),
        raw: () => prisma.$executeRaw`INSERT INTO "PaymentEvent" ("paymentSessionId", "type", "detail") VALUES (${id}::uuid, 'bench', ${JSON.stringify(detail)}::jsonb)`,
        pg: () => pool.query(`INSERT INTO "PaymentEvent" ("paymentSessionId", "type", "detail") VALUES ($1::uuid, 'bench', $2::jsonb)`, [id, JSON.stringify(detail)]),
      },
    },
    {
      name: 'outbox job insert, once per dedupe key',
      where: 'JobRepository.enqueue: the job row back, inserted or already there',
      run: {
        // As main sends it: ON CONFLICT DO NOTHING, then the row read back (two statements).
        prisma: async () => {
          const dedupeKey = jobKey();
          const now = new Date();
          await prisma.job.createMany({ data: [{ kind: 'shopify.payments-mutation', dedupeKey, payload: jobPayload, shopId, subjectType: 'payment_session', subjectId: id, runAt: now, createdAt: now }], skipDuplicates: true });
          return prisma.job.findUniqueOrThrow({ where: { dedupeKey } });
        },
        raw: () => {
          const now = new Date();
          return prisma.$queryRaw`
            INSERT INTO "Job" ("kind", "dedupeKey", "payload", "shopId", "subjectType", "subjectId", "runAt", "createdAt", "updatedAt")
            VALUES ('shopify.payments-mutation', ${jobKey()}, ${JSON.stringify(jobPayload)}::jsonb, ${shopId}::uuid, 'payment_session', ${id}, ${now}, ${now}, ${now})
            ON CONFLICT ("dedupeKey") DO NOTHING
            RETURNING *`;
        },
        pg: () => {
          const now = new Date();
          return pool.query(
            `INSERT INTO "Job" ("kind", "dedupeKey", "payload", "shopId", "subjectType", "subjectId", "runAt", "createdAt", "updatedAt")
             VALUES ('shopify.payments-mutation', $1, $2::jsonb, $3::uuid, 'payment_session', $4, $5, $5, $5)
             ON CONFLICT ("dedupeKey") DO NOTHING
             RETURNING *`,
            [jobKey(), JSON.stringify(jobPayload), shopId, id, now],
          );
        },
      },
    },
  ];
}

async function measure(fn: () => Promise<unknown>, iterations: number): Promise<Measured> {
  for (let i = 0; i < Math.min(500, iterations); i++) await fn();
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < iterations; i++) await fn();
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / iterations, wallUs: ((performance.now() - started) * 1000) / iterations };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Every statement, every way, `rounds` times in turn (so drift on a shared machine hits all ways alike). */
async function measureDatabase(db: Database, options: Options): Promise<Map<string, Record<Way, Measured & { range: [number, number] }>>> {
  const statements = await statementsFor(db);
  const results = new Map<string, Record<Way, Measured & { range: [number, number] }>>();
  for (const statement of statements) {
    const samples: Record<Way, Measured[]> = { prisma: [], raw: [], pg: [] };
    for (let round = 0; round < options.rounds; round++) {
      for (const way of WAYS) samples[way].push(await measure(statement.run[way], options.iterations));
    }
    const row = {} as Record<Way, Measured & { range: [number, number] }>;
    for (const way of WAYS) {
      const cpu = samples[way].map((s) => s.cpuUs);
      row[way] = { cpuUs: median(cpu), wallUs: median(samples[way].map((s) => s.wallUs)), range: [Math.min(...cpu), Math.max(...cpu)] };
    }
    results.set(statement.name, row);
    process.stderr.write(`  ${statement.name}: prisma ${row.prisma.cpuUs.toFixed(0)} µs, raw ${row.raw.cpuUs.toFixed(0)} µs, pg ${row.pg.cpuUs.toFixed(0)} µs CPU\n`);
  }
  return results;
}

function table(label: string, results: Map<string, Record<Way, Measured & { range: [number, number] }>>): string {
  const f = (m: Measured & { range: [number, number] }) => `${m.cpuUs.toFixed(0)} [${m.range[0].toFixed(0)}–${m.range[1].toFixed(0)}] · ${m.wallUs.toFixed(0)}`;
  const lines = [
    `### ${label}`,
    '',
    '| statement | Prisma query API | `$queryRaw` / `$executeRaw` | `pg` directly | Prisma ÷ raw | raw ÷ pg |',
    '|---|---|---|---|---|---|',
  ];
  for (const [name, row] of results) {
    lines.push(`| ${name} | ${f(row.prisma)} | ${f(row.raw)} | ${f(row.pg)} | ${(row.prisma.cpuUs / row.raw.cpuUs).toFixed(1)}× | ${(row.raw.cpuUs / row.pg.cpuUs).toFixed(1)}× |`);
  }
  lines.push('', 'µs of CPU per statement, median of the rounds [range] · µs of wall time (one at a time, so wall includes the round trip).', '');
  return lines.join('\n');
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const info = machineInfo();
  const out: string[] = [
    `Run of ${new Date().toISOString()}: ${info.cpu}, ${info.cores} cores; Node ${process.version}; Prisma ${info.prisma}, PGlite ${info.pglite}; ${options.iterations} statements per measurement after a warm-up, ${options.rounds} rounds, load average ${os.loadavg()[0]!.toFixed(2)} at start.`,
    '',
  ];

  if (options.only !== 'embedded') {
    const version = await postgresVersion(options.postgresUrl);
    if (!version) {
      process.stderr.write(`no PostgreSQL at ${options.postgresUrl}: PostgreSQL left out\n`);
    } else {
      const scratch = await createBenchDatabase(options.postgresUrl, 'queries');
      try {
        const db = await openDatabase({ databaseUrl: scratch.url, dataDir: '.', poolSize: 1 });
        try {
          process.stderr.write(`PostgreSQL ${version}\n`);
          out.push(table(`PostgreSQL ${version} (same machine, pool of 1)`, await measureDatabase(db, options)));
        } finally {
          await db.close();
        }
      } finally {
        await scratch.drop();
      }
    }
  }

  if (options.only !== 'postgres') {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'flex-bench-queries-'));
    try {
      const db = await openDatabase({ databaseUrl: undefined, dataDir, poolSize: 1 });
      try {
        process.stderr.write('embedded PGlite\n');
        out.push(
          table(
            'Embedded PGlite (in the app process: its CPU includes the database executing the statement)',
            await measureDatabase(db, options),
          ),
        );
      } finally {
        await db.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  out.push(`Load average ${os.loadavg()[0]!.toFixed(2)} at end.`);
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
