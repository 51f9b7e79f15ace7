import { createHmac, randomBytes } from 'node:crypto';
import { verifyFlexWebhook as verify } from '../../src/flex/webhooks/signature';

const keyBytes = randomBytes(32);
const secret = `fwhsec_${keyBytes.toString('base64')}`;
const now = 1_800_000_000;

function sign(id: string, timestamp: number, body: string, key = keyBytes): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

function headers(id: string, timestamp: number, signature: string) {
  return { 'svix-id': id, 'svix-timestamp': String(timestamp), 'svix-signature': signature };
}

/** The `svix` package judges timestamps against the real clock: pin it to `now`. */
function verifyFlexWebhook(body: Buffer, headers: Record<string, string>, key: string, at: number) {
  const spy = jest.spyOn(Date, 'now').mockReturnValue(at * 1000);
  try {
    return verify(body, headers, key);
  } finally {
    spy.mockRestore();
  }
}

describe('verifyFlexWebhook', () => {
  const body = JSON.stringify({ event_id: 'evt_1', event_type: 'checkout.session.completed', object: {} });

  it('accepts a valid signature and gives the delivery id', () => {
    const result = verifyFlexWebhook(Buffer.from(body), headers('msg_1', now, `v1,${sign('msg_1', now, body)}`), secret, now);
    expect(result).toEqual({ valid: true, deliveryId: 'msg_1' });
  });

  it('accepts the unbranded webhook-* headers and any matching entry in the list', () => {
    const result = verifyFlexWebhook(
      Buffer.from(body),
      { 'webhook-id': 'msg_2', 'webhook-timestamp': String(now), 'webhook-signature': `v1,${sign('msg_2', now, body, randomBytes(32))} v1,${sign('msg_2', now, body)}` },
      secret,
      now,
    );
    expect(result.valid).toBe(true);
  });

  it('refuses a body changed after signing (verification is on the raw bytes)', () => {
    const signature = `v1,${sign('msg_1', now, body)}`;
    const reformatted = JSON.stringify(JSON.parse(body), null, 2);
    expect(verifyFlexWebhook(Buffer.from(reformatted), headers('msg_1', now, signature), secret, now)).toEqual({ valid: false, reason: 'bad_signature' });
  });

  it('refuses a signature made with another secret, or for another delivery id', () => {
    expect(verifyFlexWebhook(Buffer.from(body), headers('msg_1', now, `v1,${sign('msg_1', now, body, randomBytes(32))}`), secret, now).valid).toBe(false);
    expect(verifyFlexWebhook(Buffer.from(body), headers('msg_9', now, `v1,${sign('msg_1', now, body)}`), secret, now).valid).toBe(false);
  });

  it('refuses timestamps more than five minutes off, either way', () => {
    for (const ts of [now - 301, now + 301]) {
      expect(verifyFlexWebhook(Buffer.from(body), headers('msg_1', ts, `v1,${sign('msg_1', ts, body)}`), secret, now)).toEqual({ valid: false, reason: 'stale_timestamp' });
    }
    expect(verifyFlexWebhook(Buffer.from(body), headers('msg_1', now - 299, `v1,${sign('msg_1', now - 299, body)}`), secret, now).valid).toBe(true);
  });

  it('refuses missing headers, non-v1 schemes and garbage', () => {
    expect(verifyFlexWebhook(Buffer.from(body), {}, secret, now)).toEqual({ valid: false, reason: 'missing_headers' });
    expect(verifyFlexWebhook(Buffer.from(body), headers('msg_1', now, `v2,${sign('msg_1', now, body)}`), secret, now).valid).toBe(false);
    expect(verifyFlexWebhook(Buffer.from(body), headers('msg_1', now, 'v1,'), secret, now).valid).toBe(false);
    expect(verifyFlexWebhook(Buffer.from(body), { 'svix-id': 'm', 'svix-timestamp': 'soon', 'svix-signature': 'v1,x' }, secret, now)).toEqual({ valid: false, reason: 'bad_timestamp' });
  });
});
