import type { Harness } from './harness';

/**
 * The merchant's browser, reduced to HTTP: a cookie jar, manual redirects, form posts with the
 * Origin a browser would send. @shopify/shopify-api refuses bots, so it says it is Chrome.
 */

export const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

export interface Answer {
  status: number;
  location: string | null;
  body: string;
  setCookies: string[];
  headers: Headers;
}

export class MerchantBrowser {
  readonly cookies = new Map<string, string>();

  constructor(readonly appUrl: string) {}

  get origin(): string {
    return new URL(this.appUrl).origin;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send(url, { method: 'GET', headers });
  }

  /** A form post from the app's own page, unless `origin` says otherwise (null: no Origin header). */
  async post(path: string, fields: Record<string, string>, options: { origin?: string | null; referer?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', ...options.headers };
    const origin = options.origin === undefined ? this.origin : options.origin;
    if (origin !== null) headers.Origin = origin;
    if (options.referer) headers.Referer = options.referer;
    return this.send(new URL(path, this.appUrl).toString(), { method: 'POST', headers, body: new URLSearchParams(fields).toString() });
  }

  /** GET /settings and the CSRF token of its forms. */
  async settings(): Promise<{ answer: Answer; csrf: string }> {
    const answer = await this.get(`${this.appUrl}/settings`);
    return { answer, csrf: csrfOf(answer.body) };
  }

  private async send(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<Answer> {
    const isApp = url.startsWith(this.appUrl);
    const headers: Record<string, string> = { 'User-Agent': BROWSER_UA, ...init.headers };
    if (isApp && this.cookies.size > 0 && !('Cookie' in headers)) headers.Cookie = this.cookieHeader();
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    const setCookies = res.headers.getSetCookie();
    if (isApp) this.store(setCookies);
    return { status: res.status, location: res.headers.get('location'), body: await res.text(), setCookies, headers: res.headers };
  }

  store(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair, ...attributes] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      const expired = attributes.some((a) => {
        const [k, v] = a.split('=').map((x) => x?.trim() ?? '');
        if (/^max-age$/i.test(k!)) return Number(v) <= 0;
        if (/^expires$/i.test(k!)) return Date.parse(v!) <= Date.now();
        return false;
      });
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }
}

export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!match) throw new Error('no CSRF token on the page');
  return match[1]!;
}

/** Hidden fields of the simulator's Install form. */
export function installFormFields(html: string): Record<string, string> {
  return Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&').replace(/&quot;/g, '"').replace(/&#39;/g, "'")]));
}

export interface OAuthSteps {
  browser: MerchantBrowser;
  /** The app's answer to the signed application URL (302 to Shopify's authorize page). */
  begin: Answer;
  /** Shopify's signed redirect back to the app, after the Install button. */
  callbackUrl: string;
  /** The state cookies the browser held when it came back. */
  stateCookies: string;
}

/** The merchant opens the app from Shopify and clicks Install, up to (not including) the callback. */
export async function approveInstall(h: Harness, shopDomain: string, browser = new MerchantBrowser(h.appUrl)): Promise<OAuthSteps> {
  h.shopify.addShop(shopDomain);
  const begin = await browser.get(h.shopify.installUrl(shopDomain));
  if (begin.status !== 302 || !begin.location) throw new Error(`the app answered the install URL with ${begin.status}: ${begin.body.slice(0, 200)}`);
  const authorize = await fetch(begin.location, { redirect: 'manual' });
  let callbackUrl: string;
  if (authorize.status === 302) {
    callbackUrl = authorize.headers.get('location')!; // already installed: Shopify skips the consent page
  } else {
    const page = await authorize.text();
    if (authorize.status !== 200) throw new Error(`Shopify's authorize page answered ${authorize.status}: ${page.slice(0, 300)}`);
    const install = await fetch(`${h.shopify.url}/admin/oauth/authorize`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(installFormFields(page)).toString(),
      redirect: 'manual',
    });
    if (install.status !== 302) throw new Error(`Install answered ${install.status}`);
    callbackUrl = install.headers.get('location')!;
  }
  return { browser, begin, callbackUrl, stateCookies: browser.cookieHeader() };
}

/** The whole install: approve, follow the callback, land signed in on the settings page. */
export async function installThroughOAuth(h: Harness, shopDomain: string): Promise<MerchantBrowser> {
  const steps = await approveInstall(h, shopDomain);
  const callback = await steps.browser.get(steps.callbackUrl);
  if (callback.status !== 303 || !callback.location?.startsWith('/settings')) {
    throw new Error(`the callback answered ${callback.status}: ${callback.body.slice(0, 300)}`);
  }
  return steps.browser;
}

/** Connects Flex through the settings form; returns the answer (303 on success). */
export async function connectFlex(browser: MerchantBrowser, keys: { live?: string; test?: string }): Promise<Answer> {
  const { csrf } = await browser.settings();
  return browser.post('/settings/connect', { _csrf: csrf, live_key: keys.live ?? '', test_key: keys.test ?? '' });
}

export function uniqueShop(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 8)}.myshopify.com`;
}
