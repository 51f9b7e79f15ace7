#!/usr/bin/env node
// What `npm test` needs from the machine, made ready before the tests run: the projects that need it
// have it as their jest globalSetup (scripts/jest-setup/, named in jest.config.js), and
// `node scripts/test-setup.mjs [postgres] [chromium]` runs it by hand (it says what it found, and how
// long that took).
//
// - PostgreSQL at TEST_POSTGRES_URL (default 127.0.0.1:5432), for the postgres and browser projects.
//   When `pg_isready` says it is down, it is started the way the machine's services are started
//   (`pg_ctlcluster --skip-systemctl-redirect <version> main start`), as root or with passwordless sudo.
// - Chromium, for the browser project: CHROMIUM_PATH if set; else the Chromium that the npm package
//   @sparticuz/chromium ships (a devDependency; unpacked once into node_modules/.cache); else
//   Debian's /usr/bin/chromium, installed with apt-get when this user may (root, or passwordless
//   sudo). The path found is handed to the tests as CHROMIUM_PATH.
//
// Whatever cannot be had stops the run with one line saying what is missing and how to get it.
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createBrotliDecompress } from 'node:zlib';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const isRoot = process.getuid?.() === 0;

class Missing extends Error {}

const say = (line) => process.stderr.write(`test set-up: ${line}\n`);
const run = (command, args, options = {}) => spawnSync(command, args, { encoding: 'utf8', timeout: 600_000, ...options });
const canSudo = () => !isRoot && run('sudo', ['-n', 'true']).status === 0;
/** argv as root: as is when we are root, through passwordless sudo when we may; else null. */
const asRoot = (argv) => (isRoot ? argv : canSudo() ? ['sudo', '-n', ...argv] : null);

// ---- PostgreSQL ----

function postgresAddress() {
  const url = new URL(process.env.TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres');
  return { host: url.hostname || '127.0.0.1', port: Number(url.port || 5432) };
}

/** `pg_isready`, or a TCP connect where the client tools are not installed. */
async function postgresAnswers({ host, port }) {
  const ready = run('pg_isready', ['-h', host, '-p', String(port), '-q'], { timeout: 10_000 });
  if (!ready.error) return ready.status === 0;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 }, () => socket.end(() => resolve(true)));
    socket.on('error', () => resolve(false));
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

async function ensurePostgres() {
  const address = postgresAddress();
  const where = `${address.host}:${address.port}`;
  if (await postgresAnswers(address)) return `PostgreSQL answers at ${where}`;
  const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql').sort((a, b) => Number(a) - Number(b)) : [];
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(address.host);
  if (!local || versions.length === 0) {
    throw new Missing(`PostgreSQL does not answer at ${where}${local ? ' and no cluster is installed (apt-get install postgresql)' : ''}: start a server there, or point TEST_POSTGRES_URL at one`);
  }
  const start = ['pg_ctlcluster', '--skip-systemctl-redirect', versions.at(-1), 'main', 'start'];
  const argv = asRoot(start);
  if (!argv) throw new Missing(`PostgreSQL does not answer at ${where} and this user cannot start it: run \`sudo ${start.join(' ')}\``);
  say(`PostgreSQL does not answer at ${where}: ${argv.join(' ')}`);
  const started = run(argv[0], argv.slice(1));
  for (let i = 0; i < 30 && !(await postgresAnswers(address)); i++) await new Promise((r) => setTimeout(r, 1000));
  if (!(await postgresAnswers(address))) {
    const why = `${started.stderr ?? ''}${started.stdout ?? ''}`.trim().split('\n').at(-1) || `exit ${started.status}`;
    throw new Missing(`PostgreSQL does not answer at ${where}, and \`${start.join(' ')}\` did not start it (${why})`);
  }
  return `PostgreSQL started at ${where}`;
}

// ---- Chromium ----

/** The version line when `chromium --version` runs, else null. */
function chromiumVersion(file) {
  if (!existsSync(file)) return null;
  const result = run(file, ['--version'], { timeout: 30_000 });
  return result.status === 0 && /\d+\.\d+/.test(result.stdout) ? result.stdout.trim().split('\n').at(-1) : null;
}

/** The Chromium shipped in @sparticuz/chromium (brotli-compressed), unpacked once per version. */
async function packagedChromium() {
  let dir;
  try {
    dir = path.resolve(path.dirname(createRequire(path.join(ROOT, 'package.json')).resolve('@sparticuz/chromium')), '..');
  } catch {
    return null;
  }
  const compressed = path.join(dir, 'bin', 'chromium.br');
  if (!existsSync(compressed)) return null;
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const target = path.join(ROOT, 'node_modules', '.cache', 'sparticuz-chromium', version, 'chromium');
  if (!existsSync(target)) {
    mkdirSync(path.dirname(target), { recursive: true });
    const partial = `${target}.${process.pid}.partial`;
    try {
      await pipeline(createReadStream(compressed), createBrotliDecompress(), createWriteStream(partial, { mode: 0o755 }));
      renameSync(partial, target);
    } finally {
      rmSync(partial, { force: true });
    }
    say(`unpacked @sparticuz/chromium ${version} into ${path.relative(ROOT, target)}`);
  }
  return target;
}

/** Installs Debian's chromium with apt-get when this user may: true when it did, null when it may not. */
function installDebianChromium() {
  const install = 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null';
  const argv = existsSync('/usr/bin/apt-get') ? asRoot(['sh', '-c', install]) : null;
  if (!argv) return null;
  say(`no runnable Chromium from npm; installing Debian's chromium: ${argv.join(' ')}`);
  return run(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'inherit'] }).status === 0;
}

async function ensureChromium() {
  const chosen = process.env.CHROMIUM_PATH;
  if (chosen) {
    const version = chromiumVersion(chosen);
    if (!version) throw new Missing(`CHROMIUM_PATH=${chosen} does not run (\`${chosen} --version\` failed): unset it, or point it at a working Chromium`);
    return { file: chosen, version };
  }
  const packaged = await packagedChromium();
  for (const file of [packaged, DEBIAN_CHROMIUM].filter(Boolean)) {
    const version = chromiumVersion(file);
    if (version) return { file, version };
  }
  const debianWasThere = existsSync(DEBIAN_CHROMIUM);
  const installed = installDebianChromium();
  const version = installed && chromiumVersion(DEBIAN_CHROMIUM);
  if (version) return { file: DEBIAN_CHROMIUM, version };
  const npm = packaged ? `${path.relative(ROOT, packaged)} does not run` : '@sparticuz/chromium is not installed (npm install brings it)';
  const debian = debianWasThere ? `${DEBIAN_CHROMIUM} does not run` : `no ${DEBIAN_CHROMIUM}`;
  const apt = installed === null ? 'this user may not apt-get' : `apt-get install chromium ${installed ? 'gave no runnable chromium' : 'failed'}`;
  throw new Missing(`no Chromium that runs for test/browser (${npm}; ${debian}; ${apt}): run \`sudo apt-get install chromium\`, or set CHROMIUM_PATH`);
}

// ---- entry points ----

const STEPS = {
  postgres: ensurePostgres,
  async chromium() {
    const { file, version } = await ensureChromium();
    process.env.CHROMIUM_PATH = file;
    return `Chromium ${file} (${version})`;
  },
};

async function setUp(needs) {
  for (const need of needs) if (!STEPS[need]) throw new Missing(`unknown need ${need} (postgres, chromium)`);
  const found = [];
  for (const need of needs) found.push(await STEPS[need]());
  return found;
}

/**
 * A jest globalSetup doing `needs`. Jest runs each globalSetup module once per run, whichever projects
 * name it, so each project that needs something else has a module of its own (scripts/jest-setup/).
 * On failure: one line, no stack.
 */
export function jestGlobalSetup(...needs) {
  return async () => {
    try {
      await setUp(needs);
    } catch (error) {
      if (!(error instanceof Missing)) throw error;
      const line = new Error(`test set-up: ${error.message}`);
      line.stack = line.message;
      throw line;
    }
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const needs = process.argv.length > 2 ? process.argv.slice(2) : ['postgres', 'chromium'];
  setUp(needs).then(
    (found) => process.stdout.write(`${found.join('; ')} (${Math.round(performance.now() - started)} ms)\n`),
    (error) => {
      process.stderr.write(`test set-up: ${error instanceof Missing ? error.message : error.stack}\n`);
      process.exit(1);
    },
  );
}
