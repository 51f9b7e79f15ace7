import { checkoutTokenOf } from '../../src/cart/checkout-tokens';

/** The token in a cancel_url (or the page the pixel ran on), in each form Shopify has used. */
describe('checkoutTokenOf', () => {
  it.each([
    ['legacy, shopify.dev example', 'https://shop.example/548380009/checkouts/3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c?key=abc', '3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c'],
    ['cn with a cart token', 'https://shop.example/checkouts/cn/c1-7f3e2a9b0c4d5e6f7a8b9c0d1e2f3a4b?auto_redirect=false', 'c1-7f3e2a9b0c4d5e6f7a8b9c0d1e2f3a4b'],
    ['cn with a locale', 'https://shop.example/checkouts/cn/hWN4Yk2sPqXzR8uT/en-us?skip_shop_pay=true', 'hWN4Yk2sPqXzR8uT'],
    ['c form', 'https://shop.example/checkouts/c/abcdef0123456789/information', 'abcdef0123456789'],
    ['plain checkouts/{token}', 'https://shop.example/checkouts/abcdef0123456789', 'abcdef0123456789'],
  ])('%s', (_form, url, token) => {
    expect(checkoutTokenOf(url)).toBe(token);
  });

  it.each([
    ['no checkout path', 'https://shop.example/cart'],
    ['not a URL', 'checkouts/abcdef0123456789'],
    ['too short a token', 'https://shop.example/checkouts/cn/abc'],
    ['characters a token never has', 'https://shop.example/checkouts/cn/abc%3Cscript%3Edef0123'],
    ['nothing after cn', 'https://shop.example/checkouts/cn/'],
    ['empty', ''],
  ])('finds none: %s', (_case, url) => {
    expect(checkoutTokenOf(url)).toBeNull();
  });
});
