import { toDecimalString, parseDecimalAmount } from '../../src/lib/money';

describe('parseDecimalAmount', () => {
  it.each([
    ['123.00', 'USD', 12300],
    ['0.01', 'USD', 1],
    ['5', 'USD', 500],
    ['0.5', 'USD', 50],
    ['19.990', 'USD', 1999],
    ['1000000.10', 'USD', 100000010],
    ['1500', 'JPY', 1500],
    ['1.234', 'KWD', 1234],
    // Exactly, where a float would drift: 0.29 * 100 = 28.999999999999996.
    ['0.29', 'USD', 29],
    ['4.35', 'USD', 435],
    ['90071992547409.91', 'USD', 9007199254740991],
  ])('parses %s %s to %d minor units', (text, currency, minor) => {
    expect(parseDecimalAmount(text, currency)).toEqual({ ok: true, minor });
  });

  it.each([
    ['12.345', 'USD', 'more decimal places'],
    ['1.5', 'JPY', 'more decimal places'],
    ['-1.00', 'USD', 'not a decimal'],
    ['+1.00', 'USD', 'not a decimal'],
    ['1e3', 'USD', 'not a decimal'],
    ['1,00', 'USD', 'not a decimal'],
    ['', 'USD', 'not a decimal'],
    ['.50', 'USD', 'not a decimal'],
    ['1.', 'USD', 'not a decimal'],
    [' 1.00', 'USD', 'not a decimal'],
    ['90071992547409.92', 'USD', 'too large'],
  ])('refuses %p in %s', (text, currency, reason) => {
    const result = parseDecimalAmount(text, currency);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(reason);
  });
});

describe('toDecimalString', () => {
  it.each([
    [12300, 'USD', '123.00'],
    [1, 'USD', '0.01'],
    [0, 'USD', '0.00'],
    [1500, 'JPY', '1500'],
    [-250, 'USD', '-2.50'],
  ])('formats %d %s as %s', (minor, currency, text) => {
    expect(toDecimalString(minor, currency)).toBe(text);
  });
});
