import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The architecture rule (README "Architecture", `.dependency-cruiser.cjs`): dependencies point one
 * way, http → payments | merchant | orders | reconciliation → cart | catalog → flex | shopify | outbox → db → lib, with the composition root
 * alone importing across them, and the production build holding the app only.
 */
const root = path.resolve(__dirname, '..', '..');
const cruiser = path.join(root, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs');

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

function violations(cwd: string, targets: string[]): Violation[] {
  const output = execFileSync(process.execPath, [cruiser, ...targets, '--config', path.join(root, '.dependency-cruiser.cjs'), '--output-type', 'json'], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(output) as { summary: { violations: Violation[] } }).summary.violations;
}

describe('architecture', () => {
  it('the app, the sandboxes and the development entry point keep the dependency rule', () => {
    const found = violations(root, ['src', 'sandbox', 'dev']);
    expect(found.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`)).toEqual([]);
  });

  it('the check catches an import that goes up a layer or across hooks', () => {
    const found = violations(path.join(root, 'test', 'fixtures', 'architecture'), ['src']);
    expect(found.map((v) => v.rule.name).sort()).toEqual(['layer-db', 'payments-hooks-stay-apart']);
  });

  it('the production build compiles src/ only', () => {
    const build = JSON.parse(readFileSync(path.join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[] };
    expect(build.include).toEqual(['src']);
  });
});
