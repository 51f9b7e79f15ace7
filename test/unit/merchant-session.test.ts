import { randomBytes } from 'node:crypto';
import { AdjustableClock } from '../../src/lib/clock';
import type { ShopDomain } from '../../src/lib/ids';
import { MerchantSessions } from '../../src/merchant/merchant-session';

const shop = (domain: string) => domain as ShopDomain;

describe('merchant session cookie', () => {
  const clock = new AdjustableClock();
  const key = randomBytes(32);
  const sessions = new MerchantSessions(key, clock);

  it('round-trips one shop with an expiry', () => {
    const { cookieValue, session } = sessions.issue(shop('a-shop.myshopify.com'));
    expect(sessions.verify(cookieValue)).toEqual(session);
    expect(session.expiresAt.getTime() - clock.now().getTime()).toBeGreaterThan(7.9 * 3600_000);
  });

  it('keeps merchants signed in across a key rotation, and signs new cookies with the newest key', () => {
    const next = randomBytes(32);
    const before = sessions.issue(shop('a-shop.myshopify.com'));
    const rotated = new MerchantSessions([key, next], clock);
    expect(rotated.verify(before.cookieValue)).toEqual(before.session);
    const after = rotated.issue(shop('a-shop.myshopify.com'));
    expect(new MerchantSessions(next, clock).verify(after.cookieValue)).toEqual(after.session);
    expect(sessions.verify(after.cookieValue)).toBeNull();
    // Once the old key is removed, its cookies are refused.
    expect(new MerchantSessions([next], clock).verify(before.cookieValue)).toBeNull();
  });

  it('refuses any change, another key, garbage and expiry', () => {
    const { cookieValue } = sessions.issue(shop('a-shop.myshopify.com'));
    const [v, payload, mac] = cookieValue.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const reissued = (changes: object) => `${v}.${Buffer.from(JSON.stringify({ ...claims, ...changes })).toString('base64url')}.${mac}`;
    expect(sessions.verify(reissued({ shop: 'b-shop.myshopify.com' }))).toBeNull();
    expect(sessions.verify(reissued({ exp: claims.exp + 3600 }))).toBeNull();
    expect(sessions.verify(`${v}.${payload}.${mac!.slice(1)}`)).toBeNull();
    expect(sessions.verify(`v2.${payload}.${mac}`)).toBeNull();
    expect(sessions.verify(new MerchantSessions(randomBytes(32), clock).issue(shop('a-shop.myshopify.com')).cookieValue)).toBeNull();
    for (const junk of [undefined, '', 'v1', 'v1..', 'a.b.c.d', '%%%.%%%.%%%']) expect(sessions.verify(junk)).toBeNull();
    const later = new AdjustableClock();
    later.advance(8 * 3600_000 + 1);
    expect(new MerchantSessions(key, later).verify(cookieValue)).toBeNull();
  });

  it('CSRF tokens belong to one session', () => {
    const a = sessions.issue(shop('a-shop.myshopify.com')).session;
    const a2 = sessions.issue(shop('a-shop.myshopify.com')).session;
    expect(sessions.checkCsrfToken(a, sessions.csrfToken(a))).toBe(true);
    expect(sessions.checkCsrfToken(a, sessions.csrfToken(a2))).toBe(false);
    expect(sessions.checkCsrfToken(a, undefined)).toBe(false);
    expect(sessions.checkCsrfToken(a, ['x'])).toBe(false);
    expect(sessions.checkCsrfToken(a, '')).toBe(false);
  });
});
