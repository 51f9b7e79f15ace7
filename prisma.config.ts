// Prisma CLI configuration. The app itself never goes through the CLI at run time: it builds the
// client with the same `pg` driver adapter (src/db/database.ts) and applies prisma/migrations with
// its own runner (src/db/migrate.ts), because the CLI's schema engine cannot apply migrations on
// these machines. Where a working schema engine exists, `prisma migrate deploy` reads the same files.
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  experimental: { adapter: true },
  engine: 'js',
  adapter: async () =>
    new PrismaPg({ connectionString: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres' }),
});
