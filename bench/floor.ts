import http from 'node:http';
import express from 'express';
import { SCENARIOS } from './scenarios';

/**
 * THE FLOOR: the least any server can do for each request scenario (bench/scenarios/), e.g. for
 * POST /payments/sessions the one Flex call the app must make per payment and the 201 answer. No
 * persistence, no validation, no logging. Same Node, same Express, same HTTP client (global fetch)
 * as the app, in a process of its own, so the difference to the app is what the app adds.
 *
 * Env: PORT, FLEX_API_URL, FLEX_API_KEY, APP_URL, AMOUNT_MINOR.
 */

const port = Number(process.env.PORT ?? 0);
const flexUrl = required('FLEX_API_URL');
const apiKey = required('FLEX_API_KEY');
const appUrl = process.env.APP_URL ?? `http://127.0.0.1:${port}`;
const amountMinor = Number(process.env.AMOUNT_MINOR ?? 4999);

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

async function flexPost(path: string, body: unknown, idempotencyKey: string): Promise<Record<string, any>> {
  const response = await fetch(`${flexUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${apiKey}`, Accept: 'application/json', 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as Record<string, any>;
  if (!response.ok) throw new Error(`Flex ${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
}

async function main(): Promise<void> {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  for (const scenario of SCENARIOS) await scenario.installFloor(app, { flexPost, appUrl, amountMinor });

  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1');
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`floor failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
