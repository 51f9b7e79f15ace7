// The web pixel runtime: what Shopify does with an app's web pixel extension on a checkout page. For a
// shop whose app has called webPixelCreate, each checkout page loads the extension in a fresh strict
// sandbox (here: a node:vm context with only the worker globals a strict pixel has — fetch, timers,
// URL, console, crypto — no window or document), calls its `register` callback with
// `{ analytics, browser, init, settings, customerPrivacy, _pixelInfo }` shaped as
// @shopify/web-pixels-extension types them, and publishes the standard events. The extension's own
// `fetch` reaches the app for real, with browser rules: the `Origin` the assumption decides, a CORS
// preflight for anything but a simple request, the response hidden unless CORS allows it, the 64 KiB
// keepalive body limit. The extension's TypeScript is compiled with swc (already a dev dependency).
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';
import type { Assumptions } from './assumptions';
import type { VisitorConsent } from './checkouts';
import type { PixelExtensionConfig } from './web-pixels';

export interface PixelRequestRecord {
  at: string;
  shop: string;
  /** The checkout the page belongs to. */
  checkoutToken: string | null;
  /** The pixel event being handled when the request was made. */
  event: string | null;
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  keepalive: boolean;
  credentials: string | null;
  /** An OPTIONS preflight was needed (not a simple request) and its outcome. */
  preflight: { status: number; allowed: boolean } | null;
  status: number | null;
  /** The response was not readable by the pixel (no matching Access-Control-Allow-Origin). */
  corsBlocked: boolean;
  error?: string;
}

export interface PixelPageInput {
  shop: { domain: string; name: string };
  checkoutToken: string | null;
  settings: Record<string, unknown>;
  /** The page URL (init.context.document.location). */
  href: string;
  consent: VisitorConsent;
  currency: string;
}

type Subscriber = (event: unknown) => unknown;

const SAFELISTED_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];
const SAFELISTED_HEADERS = ['accept', 'accept-language', 'content-language', 'content-type'];
const KEEPALIVE_LIMIT = 64 * 1024;

interface CompiledExtension {
  mtimeMs: number;
  code: string;
}

const compiled = new Map<string, CompiledExtension>();

function compileExtension(entry: string): string {
  const mtimeMs = statSync(entry).mtimeMs;
  const hit = compiled.get(entry);
  if (hit && hit.mtimeMs === mtimeMs) return hit.code;
  // Loaded lazily: only a simulator that runs a pixel needs the compiler.
  const swc = createRequire(__filename)('@swc/core') as typeof import('@swc/core');
  const { code } = swc.transformSync(readFileSync(entry, 'utf8'), {
    filename: entry,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  compiled.set(entry, { mtimeMs, code });
  return code;
}

/** Would a browser send this without a preflight? (Fetch standard, "CORS-safelisted request".) */
function isSimpleRequest(method: string, headers: Record<string, string>): boolean {
  if (!['GET', 'HEAD', 'POST'].includes(method)) return false;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!SAFELISTED_HEADERS.includes(lower)) return false;
    if (lower === 'content-type' && !SAFELISTED_CONTENT_TYPES.includes(value.split(';')[0]!.trim().toLowerCase())) return false;
  }
  return true;
}

function corsAllows(response: Response, origin: string): boolean {
  const allowed = response.headers.get('access-control-allow-origin');
  return allowed === '*' || allowed === origin;
}

export interface PixelRuntimeContext {
  config(): PixelExtensionConfig;
  assumptions: Assumptions;
  now(): Date;
  records: PixelRequestRecord[];
  onRecord(): void;
}

export class PixelRuntime {
  private readonly pages = new Set<PixelPage>();

  constructor(private readonly ctx: PixelRuntimeContext) {}

  /**
   * Loads the extension on a new page, or returns null when Shopify would not load it: the visitor's
   * consent does not cover a purpose the extension's `[customer_privacy]` declares.
   */
  open(input: PixelPageInput): PixelPage | null {
    const config = this.ctx.config();
    const privacy = config.customerPrivacy;
    if (
      (privacy.analytics && !input.consent.analytics) ||
      (privacy.marketing && !input.consent.marketing) ||
      (privacy.preferences && !input.consent.preferences) ||
      (privacy.saleOfData === 'enabled' && !input.consent.saleOfData)
    ) {
      return null;
    }
    const page = new PixelPage(this.ctx, config, input);
    this.pages.add(page);
    return page;
  }

  /** Waits for every request a pixel has started. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.pages].map((p) => p.idle()));
  }

  close(): void {
    for (const page of this.pages) page.close();
    this.pages.clear();
  }
}

export class PixelPage {
  private readonly subscribers = new Map<string, Set<Subscriber>>();
  private readonly pending = new Set<Promise<unknown>>();
  private readonly aborts = new Set<AbortController>();
  private readonly origin: string;
  private seq = 0;
  private currentEvent: string | null = null;
  private closed = false;
  readonly clientId = randomUUID();

  constructor(
    private readonly ctx: PixelRuntimeContext,
    private readonly config: PixelExtensionConfig,
    private readonly input: PixelPageInput,
  ) {
    this.origin = ctx.assumptions.pixelOrigin === 'null' ? 'null' : new URL(input.href).origin;
    this.load();
  }

  private load(): void {
    const entry = path.join(this.config.dir, 'src', 'index.ts');
    let extend: ((api: unknown) => void) | undefined;
    const sandbox = this.sandboxGlobals((point, callback) => {
      if (point === 'WebPixel::Render') extend = callback;
    });
    const context = vm.createContext(sandbox, { name: `web-pixel:${this.input.shop.domain}` });
    const packageRequire = createRequire(entry);
    const cache = new Map<string, unknown>();
    // A tiny CommonJS loader inside the sandbox: the extension and the real
    // @shopify/web-pixels-extension build, whose `register` calls the sandbox's `shopify.extend`.
    const load = (file: string, source: string): unknown => {
      if (cache.has(file)) return cache.get(file);
      const module = { exports: {} as unknown };
      cache.set(file, module.exports);
      const wrapper = vm.runInContext(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, context, { filename: file });
      const localRequire = (specifier: string) => {
        if (specifier.startsWith('.')) {
          const resolved = require.resolve(path.resolve(path.dirname(file), specifier));
          return load(resolved, readFileSync(resolved, 'utf8'));
        }
        if (specifier === '@shopify/web-pixels-extension') {
          const resolved = packageRequire.resolve(specifier);
          return load(resolved, readFileSync(resolved, 'utf8'));
        }
        throw new Error(`Module ${specifier} is not available in the strict web pixel sandbox`);
      };
      wrapper(module.exports, localRequire, module, file, path.dirname(file));
      cache.set(file, module.exports);
      return module.exports;
    };
    load(entry, compileExtension(entry));
    if (!extend) throw new Error(`The web pixel extension in ${this.config.dir} did not call register()`);
    extend(this.api());
  }

  private sandboxGlobals(extend: (point: string, callback: (api: unknown) => void) => void): Record<string, unknown> {
    const globals: Record<string, unknown> = {
      shopify: { extend },
      fetch: (url: unknown, init?: Record<string, unknown>) => this.fetch(url, init),
      console,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      queueMicrotask,
      URL,
      URLSearchParams,
      TextEncoder,
      TextDecoder,
      crypto: { randomUUID: () => randomUUID() },
    };
    globals.self = globals;
    return globals;
  }

  private api(): Record<string, unknown> {
    const location = locationOf(this.input.href);
    const context = {
      document: { characterSet: 'UTF-8', location, referrer: '', title: `Checkout - ${this.input.shop.name}` },
      navigator: { cookieEnabled: true, language: 'en-US', languages: ['en-US', 'en'], userAgent: 'Mozilla/5.0 (Shopify simulator)' },
      window: {
        innerHeight: 900,
        innerWidth: 1280,
        location,
        origin: location.origin,
        outerHeight: 1000,
        outerWidth: 1280,
        pageXOffset: 0,
        pageYOffset: 0,
        screen: { height: 1080, width: 1920 },
        screenX: 0,
        screenY: 0,
        scrollX: 0,
        scrollY: 0,
      },
    };
    const storage = () => {
      const map = new Map<string, string>();
      return {
        getItem: async (key: string) => map.get(key) ?? null,
        setItem: async (key: string, value: string) => void map.set(key, String(value)),
        removeItem: async (key: string) => void map.delete(key),
        clear: async () => map.clear(),
        key: async (index: number) => [...map.keys()][index] ?? null,
        length: async () => map.size,
      };
    };
    const cookies = new Map<string, string>();
    return {
      settings: { ...this.input.settings },
      analytics: {
        subscribe: (name: string, callback: Subscriber) => {
          const set = this.subscribers.get(name) ?? new Set();
          set.add(callback);
          this.subscribers.set(name, set);
          return () => set.delete(callback);
        },
      },
      browser: {
        cookie: { get: async (name?: string) => (name ? (cookies.get(name) ?? '') : [...cookies].map(([k, v]) => `${k}=${v}`).join('; ')), set: async (cookie: string) => {
          const [pair] = cookie.split(';');
          const eq = pair!.indexOf('=');
          cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
          return cookie;
        } },
        localStorage: storage(),
        sessionStorage: storage(),
        sendBeacon: async (url: string, body?: string) => {
          await this.fetch(url, { method: 'POST', body: body ?? '', keepalive: true, headers: { 'Content-Type': 'text/plain;charset=UTF-8' } }).catch(() => undefined);
          return true;
        },
      },
      init: {
        context,
        data: {
          customer: null,
          cart: null,
          shop: {
            countryCode: 'US',
            myshopifyDomain: this.input.shop.domain,
            name: this.input.shop.name,
            paymentSettings: { currencyCode: this.input.currency },
            storefrontUrl: `https://${this.input.shop.domain}`,
          },
          purchasingCompany: null,
        },
        customerPrivacy: {
          analyticsProcessingAllowed: this.input.consent.analytics,
          marketingAllowed: this.input.consent.marketing,
          preferencesProcessingAllowed: this.input.consent.preferences,
          saleOfDataAllowed: this.input.consent.saleOfData,
        },
      },
      customerPrivacy: { subscribe: () => () => true },
      _pixelInfo: { id: this.input.shop.domain, type: 'APP', runtimeContext: this.config.runtimeContext.toUpperCase() },
    };
  }

  /**
   * Publishes a standard event (`{id, clientId, name, seq, timestamp, type: 'standard', context,
   * data}`) to the extension's subscribers and waits for the requests they start.
   */
  async publish(name: string, data: Record<string, unknown>, href = this.input.href): Promise<Record<string, unknown>> {
    const location = locationOf(href);
    const event = {
      id: `sh-${randomUUID()}`,
      clientId: this.clientId,
      name,
      seq: ++this.seq,
      timestamp: this.ctx.now().toISOString(),
      type: 'standard',
      context: {
        document: { characterSet: 'UTF-8', location, referrer: '', title: `Checkout - ${this.input.shop.name}` },
        navigator: { cookieEnabled: true, language: 'en-US', languages: ['en-US', 'en'], userAgent: 'Mozilla/5.0 (Shopify simulator)' },
        window: { location, origin: location.origin, innerHeight: 900, innerWidth: 1280, outerHeight: 1000, outerWidth: 1280, pageXOffset: 0, pageYOffset: 0, screenX: 0, screenY: 0, scrollX: 0, scrollY: 0, screen: { height: 1080, width: 1920 } },
      },
      data,
    };
    if (this.closed) return event;
    const before = new Set(this.pending);
    for (const key of [name, 'all_events', 'all_standard_events']) {
      for (const subscriber of this.subscribers.get(key) ?? []) {
        this.currentEvent = name;
        try {
          // The sandbox gets its own copy, as the real runtime serializes events across the worker boundary.
          await subscriber(structuredClone(event));
        } catch (error) {
          // A throwing pixel never breaks checkout.
          void error;
        } finally {
          this.currentEvent = null;
        }
      }
    }
    await Promise.allSettled([...this.pending].filter((p) => !before.has(p)));
    return event;
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  close(): void {
    this.closed = true;
    for (const abort of this.aborts) abort.abort();
  }

  private fetch(url: unknown, init: Record<string, unknown> = {}): Promise<Response> {
    const work = this.send(String(url), init);
    this.pending.add(work);
    void work.catch(() => undefined).finally(() => this.pending.delete(work));
    return work;
  }

  private async send(url: string, init: Record<string, unknown>): Promise<Response> {
    const method = String(init.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    const given = init.headers as Record<string, string> | [string, string][] | undefined;
    for (const [name, value] of Array.isArray(given) ? given : Object.entries(given ?? {})) headers[name] = String(value);
    const body = init.body === undefined || init.body === null ? '' : String(init.body);
    // A string body without a type goes out as text/plain, like a browser's.
    if (body && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'text/plain;charset=UTF-8';
    const record: PixelRequestRecord = {
      at: this.ctx.now().toISOString(),
      shop: this.input.shop.domain,
      checkoutToken: this.input.checkoutToken,
      event: this.currentEvent,
      url,
      method,
      headers: { ...headers, Origin: this.origin },
      body,
      keepalive: init.keepalive === true,
      credentials: typeof init.credentials === 'string' ? init.credentials : null,
      preflight: null,
      status: null,
      corsBlocked: false,
    };
    const fail = (message: string): never => {
      record.error = message;
      this.ctx.records.push(record);
      this.ctx.onRecord();
      throw new TypeError(message);
    };
    if (record.keepalive && Buffer.byteLength(body) > KEEPALIVE_LIMIT) fail('Failed to fetch: keepalive request body exceeds 64 KiB');
    const abort = new AbortController();
    this.aborts.add(abort);
    try {
      if (!isSimpleRequest(method, headers)) {
        const preflight = await globalThis.fetch(url, {
          method: 'OPTIONS',
          headers: {
            Origin: this.origin,
            'Access-Control-Request-Method': method,
            'Access-Control-Request-Headers': Object.keys(headers).map((h) => h.toLowerCase()).sort().join(','),
          },
          signal: abort.signal,
        });
        const allowed = preflight.ok && corsAllows(preflight, this.origin);
        record.preflight = { status: preflight.status, allowed };
        if (!allowed) fail('Failed to fetch: CORS preflight did not succeed');
      }
      const response = await globalThis.fetch(url, { method, headers: record.headers, body: method === 'GET' || method === 'HEAD' ? undefined : body, signal: abort.signal });
      record.status = response.status;
      // The request reached the app either way; only reading the answer needs CORS.
      if (!corsAllows(response, this.origin)) {
        record.corsBlocked = true;
        await response.body?.cancel();
        fail('Failed to fetch: the response has no matching Access-Control-Allow-Origin');
      }
      this.ctx.records.push(record);
      this.ctx.onRecord();
      return response;
    } catch (error) {
      if (error instanceof TypeError && record.error) throw error;
      return fail(`Failed to fetch: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.aborts.delete(abort);
    }
  }
}

function locationOf(href: string) {
  const url = new URL(href);
  return {
    hash: url.hash,
    host: url.host,
    hostname: url.hostname,
    href: url.href,
    origin: url.origin,
    pathname: url.pathname,
    port: url.port,
    protocol: url.protocol,
    search: url.search,
  };
}
