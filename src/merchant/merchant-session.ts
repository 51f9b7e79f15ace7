import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../lib/clock';
import type { ShopDomain } from '../lib/ids';
import { SHOP_DOMAIN_PATTERN } from '../lib/shop-domain';

/** A merchant signed in to the settings page: one shop, until `expiresAt`. */
export interface MerchantSession {
  shop: ShopDomain;
  /** Random per sign-in; the CSRF token is derived from it. */
  sid: string;
  expiresAt: Date;
}

const payloadSchema = z.object({ v: z.literal(1), shop: z.string().regex(SHOP_DOMAIN_PATTERN), sid: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/), exp: z.number().int() });

export const MERCHANT_SESSION_TTL_MS = 8 * 60 * 60 * 1000;

/**
 * The settings page's session: a cookie `v1.<payload>.<mac>` where the payload (shop, session id,
 * expiry) is base64url JSON and the MAC is HMAC-SHA256 over "v1.<payload>" with a key derived from
 * the newest encryption key. Nothing is stored server-side; the shop in the cookie is the only shop its holder
 * can see or change, and a changed byte anywhere fails the constant-time check.
 *
 * CSRF: every form carries a synchronizer token, HMAC("csrf", session id), so a token only works
 * with the session it was rendered for.
 */
export class MerchantSessions {
  /** Newest last: cookies are signed with the newest, and those signed before a key rotation still verify. */
  private readonly keys: Buffer[];

  constructor(
    encryptionKeys: Buffer | Buffer[],
    private readonly clock: Clock,
    private readonly ttlMs = MERCHANT_SESSION_TTL_MS,
  ) {
    this.keys = (Buffer.isBuffer(encryptionKeys) ? [encryptionKeys] : encryptionKeys).map((key) =>
      Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'flex-payments-app/merchant-session/v1', 32)),
    );
    if (this.keys.length === 0) throw new Error('MerchantSessions needs a key');
  }

  private get key(): Buffer {
    return this.keys[this.keys.length - 1]!;
  }

  get ttlSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }

  issue(shop: ShopDomain): { cookieValue: string; session: MerchantSession } {
    const sid = randomBytes(18).toString('base64url');
    const exp = Math.floor((this.clock.now().getTime() + this.ttlMs) / 1000);
    const payload = Buffer.from(JSON.stringify({ v: 1, shop, sid, exp })).toString('base64url');
    const signed = `v1.${payload}`;
    return { cookieValue: `${signed}.${this.mac(signed)}`, session: { shop, sid, expiresAt: new Date(exp * 1000) } };
  }

  /** The session in a cookie value, or null when it is missing, forged, tampered with or expired. */
  verify(cookieValue: string | undefined): MerchantSession | null {
    if (!cookieValue) return null;
    const parts = cookieValue.split('.');
    if (parts.length !== 3 || parts[0] !== 'v1') return null;
    const signed = `${parts[0]}.${parts[1]}`;
    if (!this.keys.some((key) => safeEqual(parts[2]!, mac(key, signed)))) return null;
    let parsed: z.infer<typeof payloadSchema>;
    try {
      const result = payloadSchema.safeParse(JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')));
      if (!result.success) return null;
      parsed = result.data;
    } catch {
      return null;
    }
    const expiresAt = new Date(parsed.exp * 1000);
    if (expiresAt.getTime() <= this.clock.now().getTime()) return null;
    return { shop: parsed.shop as ShopDomain, sid: parsed.sid, expiresAt };
  }

  csrfToken(session: MerchantSession): string {
    return createHmac('sha256', this.key).update(`csrf:${session.sid}:${session.shop}`).digest('base64url');
  }

  checkCsrfToken(session: MerchantSession, token: unknown): boolean {
    return typeof token === 'string' && safeEqual(token, this.csrfToken(session));
  }

  /**
   * A signed link for another shop must not replace a signed-in session silently (login CSRF: the
   * merchant would go on to work in a shop that is not theirs). The page that asks them to confirm
   * carries this ticket: it names both sessions' shops, is bound to the current session and expires
   * in five minutes, so only that confirmation, from that browser, can make the switch.
   */
  switchTicket(session: MerchantSession, toShop: ShopDomain): string {
    const exp = Math.floor(this.clock.now().getTime() / 1000) + 5 * 60;
    return `${exp}.${this.mac(`switch:${session.sid}:${session.shop}:${toShop}:${exp}`)}`;
  }

  checkSwitchTicket(session: MerchantSession, toShop: ShopDomain, ticket: unknown): boolean {
    if (typeof ticket !== 'string') return false;
    const [expText, mac] = ticket.split('.');
    const exp = Number(expText);
    if (!Number.isInteger(exp) || exp * 1000 <= this.clock.now().getTime() || !mac) return false;
    return safeEqual(mac, this.mac(`switch:${session.sid}:${session.shop}:${toShop}:${exp}`));
  }

  private mac(text: string): string {
    return mac(this.key, text);
  }
}

function mac(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
