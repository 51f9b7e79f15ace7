// Plain HTML pages for humans (npm start) and the browser test. Self-contained: no external assets.
import type { ProductRecord } from './catalog';
import type { CheckoutRecord } from './checkouts';
import type { MutationRecord } from './graphql-api';
import { restMoney } from './money';
import { financialStatus, type OrderRecord } from './orders';
import type { FollowUpSessionRecord, PaymentSessionRecord } from './payments-state';
import type { ShopRecord } from './shops';
import type { AppConfig } from './types';
import type { WebhookDelivery } from './webhooks';

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

const STYLE = `
body{font-family:system-ui,-apple-system,sans-serif;margin:0;background:#f1f1f1;color:#202223}
header{background:#1a1a1a;color:#fff;padding:12px 24px;display:flex;gap:24px;align-items:center}
header a{color:#e3e3e3;text-decoration:none}header strong{color:#95bf47}
main{max-width:980px;margin:24px auto;padding:0 16px}
section{background:#fff;border-radius:10px;padding:16px 20px;margin-bottom:16px;box-shadow:0 1px 2px rgba(0,0,0,.15)}
h1{font-size:22px}h2{font-size:17px;margin-top:0}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{border-bottom:1px solid #e1e3e5;padding:6px;text-align:left;vertical-align:top}
label{display:inline-block;margin:4px 12px 4px 0}input,select{padding:4px 6px;font-size:14px}input[type=number]{width:4.5em}
button{background:#008060;color:#fff;border:0;border-radius:6px;padding:8px 16px;font-size:14px;cursor:pointer}
button.secondary{background:#6d7175}.ok{color:#008060}.bad{color:#d72c0d}.muted{color:#6d7175}
pre{white-space:pre-wrap;word-break:break-all;font-size:12px;background:#f6f6f7;padding:8px;border-radius:6px;max-height:220px;overflow:auto}
code{font-size:12px}
`;

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><header><strong>Shopify simulator</strong><a href="/">Checkout</a><a href="/admin">Admin</a><a href="/mutations">Mutations</a></header>
<main>${body}</main></body></html>`;
}

export function errorPage(title: string, message: string): string {
  return layout(title, `<section><h1 class="bad">${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></section>`);
}

function statusLabel(status: string): string {
  const cls = status === 'resolved' ? 'ok' : status === 'rejected' ? 'bad' : 'muted';
  return `<span class="${cls}">${escapeHtml(status)}</span>`;
}

function shopOptions(shops: ShopRecord[], selected?: string): string {
  return shops
    .map((s) => `<option value="${escapeHtml(s.domain)}"${s.domain === selected ? ' selected' : ''}>${escapeHtml(s.domain)}${s.installed ? '' : ' (app not installed)'}</option>`)
    .join('');
}

export function mutationsTable(mutations: MutationRecord[], limit = 50): string {
  if (mutations.length === 0) return '<p class="muted">No GraphQL calls yet.</p>';
  const rows = mutations
    .slice(-limit)
    .reverse()
    .map((m) => {
      const errors = m.userErrors.map((e) => `${e.code ? `${e.code}: ` : ''}${e.message}`).join('; ');
      return `<tr><td>${escapeHtml(m.at)}</td><td>${escapeHtml(m.shop ?? '—')}</td><td>${escapeHtml(m.version)}</td>
<td><code>${escapeHtml(m.name ?? '—')}</code></td><td>${escapeHtml(m.httpStatus ?? 'held')}${m.fault ? ` <span class="bad">fault ${escapeHtml(m.fault)}</span>` : ''}</td>
<td><pre>${escapeHtml(JSON.stringify(m.args ?? m.variables))}</pre></td><td class="${errors ? 'bad' : ''}">${escapeHtml(errors)}</td></tr>`;
    })
    .join('');
  return `<table><tr><th>at</th><th>shop</th><th>version</th><th>name</th><th>HTTP</th><th>arguments</th><th>userErrors</th></tr>${rows}</table>`;
}

export function indexPage(input: {
  shops: ShopRecord[];
  app: AppConfig | undefined;
  payments: PaymentSessionRecord[];
  mutations: MutationRecord[];
  /** Each shop's products, for the cart checkout. */
  catalogs?: Record<string, ProductRecord[]>;
  /** Whether the app's web pixel is active on each shop. */
  pixels?: Record<string, boolean>;
}): string {
  const { shops, app, payments, mutations } = input;
  const cart = cartSection(shops, input.catalogs ?? {}, input.pixels ?? {});
  const checkout =
    shops.length === 0
      ? '<p class="muted">No shops yet — add one below, then install the app on it.</p>'
      : `<form method="post" action="/checkout">
<label>Shop <select name="shop">${shopOptions(shops)}</select></label>
<label>Amount <input name="amount" value="123.00" size="8"></label>
<label>Currency <input name="currency" value="USD" size="4"></label>
<label>Kind <select name="kind"><option value="sale">sale</option><option value="authorization">authorization</option></select></label>
<label><input type="checkbox" name="test" value="1" checked> Test mode</label>
<button type="submit">Checkout</button></form>`;
  const shopRows = shops
    .map(
      (s) => `<tr><td><a href="/admin?shop=${encodeURIComponent(s.domain)}">${escapeHtml(s.domain)}</a></td>
<td>${s.installed ? '<span class="ok">installed</span>' : '<span class="muted">not installed</span>'}</td>
<td>${s.configuration ? `${s.configuration.ready ? '<span class="ok">ready</span>' : '<span class="bad">not ready</span>'} ${escapeHtml(s.configuration.externalHandle ?? '')}` : '<span class="muted">not configured</span>'}</td>
<td><a href="/admin/apps/open?shop=${encodeURIComponent(s.domain)}">Open app</a></td></tr>`,
    )
    .join('');
  const paymentRows = payments
    .slice(-20)
    .reverse()
    .map(
      (p) => `<tr><td><code>${escapeHtml(p.id)}</code></td><td>${escapeHtml(p.shop)}</td><td>${escapeHtml(p.amount)} ${escapeHtml(p.currency)}</td>
<td>${escapeHtml(p.kind)}${p.test ? ' (test)' : ''}</td><td>${statusLabel(p.status)}${p.rejection ? ` ${escapeHtml(p.rejection.code)}` : ''}</td></tr>`,
    )
    .join('');
  return layout(
    'Shopify simulator',
    `<h1>Checkout</h1>
<section><h2>Pay with the payments app</h2>
<p class="muted">The simulator sends a payment session to ${escapeHtml(app?.paymentsUrl ?? app?.url ?? '(no app configured)')} and sends you to the app's <code>redirect_url</code>.</p>
${checkout}</section>
${cart}
<section><h2>Shops</h2>${shopRows ? `<table><tr><th>shop</th><th>app</th><th>payments configuration</th><th></th></tr>${shopRows}</table>` : ''}
<form method="post" action="/shops"><label>New shop <input name="domain" placeholder="demo.myshopify.com"></label> <button class="secondary" type="submit">Add shop</button></form></section>
<section><h2>Payment sessions</h2>${paymentRows ? `<table><tr><th>id</th><th>shop</th><th>amount</th><th>kind</th><th>state</th></tr>${paymentRows}</table>` : '<p class="muted">None yet.</p>'}</section>
<section><h2>Recent GraphQL calls</h2>${mutationsTable(mutations, 10)}<p><a href="/mutations">All calls</a></p></section>`,
  );
}

function cartSection(shops: ShopRecord[], catalogs: Record<string, ProductRecord[]>, pixels: Record<string, boolean>): string {
  const forms = shops
    .filter((s) => s.installed)
    .map((shop) => {
      const products = catalogs[shop.domain] ?? [];
      if (products.length === 0) {
        return `<h3>${escapeHtml(shop.domain)}</h3><p class="muted">No products yet.</p>
<form method="post" action="/shops/${encodeURIComponent(shop.domain)}/demo-catalog"><button class="secondary" type="submit">Add demo products</button></form>`;
      }
      const rows = products
        .filter((p) => p.status === 'ACTIVE')
        .flatMap((p) =>
          p.variants.map(
            (v) => `<tr><td>${escapeHtml(p.title)}${v.title !== 'Default Title' ? ` <span class="muted">${escapeHtml(v.title)}</span>` : ''}</td>
<td><code>${escapeHtml(v.sku ?? '')}</code></td><td>${escapeHtml(v.barcode ?? '')}</td><td>${restMoney(v.priceCents)}</td>
<td><input name="qty_${v.id}" type="number" min="0" value="0" size="3" aria-label="Quantity of ${escapeHtml(p.title)} ${escapeHtml(v.title)}"></td></tr>`,
          ),
        )
        .join('');
      return `<h3>${escapeHtml(shop.domain)} <span class="muted">${pixels[shop.domain] ? 'web pixel active' : 'no web pixel (the app has not called webPixelCreate)'}</span></h3>
<form method="post" action="/cart-checkout"><input type="hidden" name="shop" value="${escapeHtml(shop.domain)}">
<table><tr><th>product</th><th>SKU</th><th>barcode</th><th>price</th><th>quantity</th></tr>${rows}</table>
<p><label>Discount code <input name="discount_code" size="10"></label><label>amount <input name="discount_amount" size="6"></label>
<label>Shipping <input name="shipping" value="5.00" size="6"></label><label>Tax % <input name="tax_rate" value="8" size="4"></label>
<label>Kind <select name="kind"><option value="sale">sale</option><option value="authorization">authorization</option></select></label>
<label><input type="checkbox" name="test" value="1" checked> Test mode</label></p>
<button type="submit">Check out cart</button></form>`;
    })
    .join('');
  return `<section><h2>Check out a cart</h2>
<p class="muted">Builds a cart from the shop's catalog and goes through Shopify's checkout: pixel events (when the app's web pixel is active), checkouts/create and checkouts/update webhooks, then the payment session request; the order is created once the app resolves the payment.</p>
${forms || '<p class="muted">Install the app on a shop first.</p>'}</section>`;
}

/** The buyer back at a cart checkout (the `cancel_url`), or its order once paid. */
export function cartCheckoutPage(checkout: CheckoutRecord, order: OrderRecord | undefined): string {
  const lines = checkout.lines
    .map(
      (l) => `<tr><td>${escapeHtml(l.productTitle)}${l.variantTitle !== 'Default Title' ? ` <span class="muted">${escapeHtml(l.variantTitle)}</span>` : ''}</td>
<td>${l.quantity}</td><td>${restMoney(l.unitPriceCents)}</td><td>${l.discountCents ? `−${restMoney(l.discountCents)}` : ''}</td><td>${restMoney(l.linePriceCents - l.discountCents)}</td></tr>`,
    )
    .join('');
  const totals = `<p>Subtotal ${restMoney(checkout.subtotalCents)} · Shipping ${restMoney(checkout.shippingCents)} · Tax ${restMoney(checkout.totalTaxCents)} · <strong>Total ${restMoney(checkout.totalCents)} ${escapeHtml(checkout.currency)}</strong></p>`;
  const head = order
    ? `<h1 class="ok">Order ${escapeHtml(order.name)} confirmed</h1><p>Thank you for your purchase!</p>`
    : `<h1>Back at checkout</h1><p>You returned from the payment page without paying. Choose a payment method to complete your purchase.</p>`;
  return layout(
    order ? 'Order confirmed' : 'Checkout',
    `<section>${head}<table><tr><th>item</th><th>qty</th><th>price</th><th>discount</th><th>total</th></tr>${lines}</table>${totals}
<p class="muted">Checkout token <code>${escapeHtml(checkout.token)}</code> · cart token <code>${escapeHtml(checkout.cartToken)}</code></p><p><a href="/">Start a new checkout</a></p></section>`,
  );
}

/** An order's metafields as the admin's Metafields card lists them: the definition's name and the value. */
export type OrderMetafieldsView = (order: OrderRecord) => Array<{ name: string; value: string }>;

function ordersSection(shop: ShopRecord, orders: OrderRecord[], metafieldsOf: OrderMetafieldsView = () => []): string {
  if (orders.length === 0) return '';
  const qs = `shop=${encodeURIComponent(shop.domain)}`;
  const blocks = orders
    .slice()
    .reverse()
    .slice(0, 20)
    .map((o) => {
      const lines = o.lines
        .map(
          (l) => `<tr><td>${escapeHtml(l.title)}${l.variantTitle && l.variantTitle !== 'Default Title' ? ` <span class="muted">${escapeHtml(l.variantTitle)}</span>` : ''}</td><td>${l.quantity}${l.refundedQuantity ? ` <span class="muted">(${l.refundedQuantity} refunded)</span>` : ''}</td>
<td>${restMoney(l.unitPriceCents)}</td><td><input form="refund-${o.id}" name="qty_${l.id}" type="number" min="0" max="${l.quantity - l.refundedQuantity}" value="0" size="3" aria-label="Refund quantity of ${escapeHtml(l.title)}"></td></tr>`,
        )
        .join('');
      const refunds = o.refunds
        .map((r) => {
          const t = o.transactions.find((x) => r.transactionIds.includes(x.id));
          return `${r.lines.map((rl) => `${rl.quantity}×${rl.lineItemId}`).join(', ')}${r.shippingCents ? ' + shipping' : ''}: ${t ? `${restMoney(t.amountCents)} ${statusLabel(t.status)}` : ''}`;
        })
        .join('<br>');
      const metafields = metafieldsOf(o)
        .map((m) => `<tr data-metafield="${escapeHtml(m.name)}"><td>${escapeHtml(m.name)}</td><td>${escapeHtml(m.value)}</td></tr>`)
        .join('');
      return `<article data-order="${o.id}"><h3>${escapeHtml(o.name)} <span class="muted">${escapeHtml(financialStatus(o))} · ${restMoney(o.totalCents)} ${escapeHtml(o.currency)} · payment <code>${escapeHtml(o.paymentSessionId)}</code></span></h3>
<table><tr><th>item</th><th>qty</th><th>price</th><th>refund</th></tr>${lines}</table>
${o.tags.length ? `<p>Tags: ${o.tags.map((t) => `<span class="tag">${escapeHtml(t)}</span>`).join(' ')}</p>` : ''}${o.note ? `<p>Note: ${escapeHtml(o.note)}</p>` : ''}
${metafields ? `<table><tr><th>metafield</th><th>value</th></tr>${metafields}</table>` : ''}
${refunds ? `<p>Refunds: ${refunds}</p>` : ''}
<form id="refund-${o.id}" method="post" action="/admin/orders/${o.id}/refund?${qs}">${o.totalShippingCents ? '<label><input type="checkbox" name="shipping"> Refund shipping</label>' : ''} <button class="secondary" type="submit">Refund selected lines</button></form>
<form method="post" action="/admin/orders/${o.id}/edit?${qs}"><label>Note <input name="note" value="${escapeHtml(o.note ?? '')}" size="30"></label><label>Tags <input name="tags" value="${escapeHtml(o.tags.join(', '))}" size="30"></label> <button class="secondary" type="submit">Save</button></form></article>`;
    })
    .join('');
  return `<section><h2>Order details</h2>${blocks}</section>`;
}

export function mutationsPage(mutations: MutationRecord[]): string {
  return layout('GraphQL calls', `<h1>GraphQL calls</h1><section>${mutationsTable(mutations, 500)}</section>`);
}

export type CheckoutOutcome = 'thank-you' | 'processing' | 'cancel' | 'error' | 'checkout';

export function checkoutPage(outcome: CheckoutOutcome, input: { group: string; session?: PaymentSessionRecord; errorCode?: string }): string {
  const { session } = input;
  const summary = session
    ? `<p class="muted">Payment session <code>${escapeHtml(session.id)}</code> · ${escapeHtml(session.amount)} ${escapeHtml(session.currency)} · ${escapeHtml(session.shop)}</p>`
    : '';
  const chooseAgain = '<p>Choose a payment method to complete your purchase.</p><p><a href="/">Start a new checkout</a></p>';
  switch (outcome) {
    case 'thank-you':
      if (session?.status !== 'resolved') {
        return layout(
          'Order not confirmed',
          `<section><h1 class="bad">Payment not confirmed</h1><p>This payment session is ${escapeHtml(session?.status ?? 'unknown')}.</p>${summary}</section>`,
        );
      }
      return layout(
        'Order confirmed',
        `<section><h1 class="ok">Order confirmed</h1><p>Thank you for your purchase!</p>${summary}
${session.authorizationExpiresAt ? `<p>Payment authorized until ${escapeHtml(session.authorizationExpiresAt)}.</p>` : ''}</section>`,
      );
    case 'processing':
      return layout(
        'Payment processing',
        `<section><h1>Your payment is processing</h1><p>Your order will be confirmed once the payment provider finishes.</p>${summary}
${session ? `<p>Current state: ${statusLabel(session.status)}${session.pending ? ` (${escapeHtml(session.pending.reason)} until ${escapeHtml(session.pending.expiresAt)})` : ''}</p>` : ''}
${session?.status === 'resolved' ? `<p><a href="/checkouts/${encodeURIComponent(input.group)}/thank-you?payment_session=${encodeURIComponent(session.id)}">See your order</a></p>` : ''}</section>`,
      );
    case 'cancel':
      return layout(
        'Checkout',
        `<section><h1>Back at checkout</h1><p>You returned from the payment page without paying.</p>${summary}${chooseAgain}</section>`,
      );
    case 'error':
      return layout(
        'Payment failed',
        `<section><h1 class="bad">Your payment could not be processed</h1><p>Reason: <code>${escapeHtml(input.errorCode)}</code>${session?.rejection?.merchantMessage ? ` — ${escapeHtml(session.rejection.merchantMessage)}` : ''}</p>${summary}${chooseAgain}</section>`,
      );
    default:
      return layout('Checkout', `<section><h1>Checkout</h1>${summary}${chooseAgain}</section>`);
  }
}

export function installPage(input: {
  app: AppConfig;
  shop: ShopRecord;
  requestedScopes: string[];
  params: Record<string, string>;
}): string {
  const { app, shop, requestedScopes, params } = input;
  const hidden = Object.entries(params)
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('');
  const scopes = requestedScopes.length
    ? `<ul>${requestedScopes.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('')}</ul>`
    : '<p class="muted">No Admin API scopes requested (the payments extension grants the payments scopes).</p>';
  return layout(
    'Install app',
    `<section><h1>Install ${escapeHtml(app.name ?? 'the payments app')}</h1>
<p>on <strong>${escapeHtml(shop.domain)}</strong></p>
<p>This app will be able to:</p>${scopes}
<p class="muted">Client id <code>${escapeHtml(app.apiKey)}</code>; you will be sent to ${escapeHtml(params.redirect_uri)}.</p>
<form method="post" action="/admin/oauth/authorize">${hidden}<button type="submit">Install</button>
<a href="/admin?shop=${encodeURIComponent(shop.domain)}" style="margin-left:12px">Cancel</a></form></section>`,
  );
}

export function adminPage(input: {
  shop: ShopRecord;
  app: AppConfig | undefined;
  payments: PaymentSessionRecord[];
  followUps: FollowUpSessionRecord[];
  webhooks: WebhookDelivery[];
  orders?: OrderRecord[];
  metafieldsOf?: OrderMetafieldsView;
}): string {
  const { shop, app, payments, followUps, webhooks } = input;
  const cfg = shop.configuration;
  const qs = `shop=${encodeURIComponent(shop.domain)}`;
  const provider = cfg
    ? `<p>${cfg.ready ? '<span class="ok">Ready</span>' : '<span class="bad">Provider not ready</span>'} · external handle <strong>${escapeHtml(cfg.externalHandle ?? '—')}</strong> <span class="muted">(updated ${escapeHtml(cfg.updatedAt)})</span></p>`
    : '<p class="bad">Provider not ready: the app has not called paymentsAppConfigure yet.</p>';
  const action = (path: string, label: string, paymentId: string) =>
    `<form method="post" action="/admin/payments/${path}?${qs}" style="display:inline"><input type="hidden" name="payment_id" value="${escapeHtml(paymentId)}"><button class="secondary" type="submit">${label}</button></form>`;
  const paymentRows = payments
    .slice()
    .reverse()
    .map((p) => {
      const actions =
        p.status !== 'resolved'
          ? ''
          : p.kind === 'authorization'
            ? `${action('capture', 'Capture', p.id)} ${action('void', 'Void', p.id)} ${action('refund', 'Refund', p.id)}`
            : action('refund', 'Refund', p.id);
      const related = followUps
        .filter((f) => f.paymentId === p.id)
        .map((f) => `${escapeHtml(f.kind)} ${escapeHtml(f.amount ?? '')} ${statusLabel(f.status)}`)
        .join('<br>');
      return `<tr><td><code>${escapeHtml(p.id)}</code></td><td>${escapeHtml(p.amount)} ${escapeHtml(p.currency)}</td><td>${escapeHtml(p.kind)}${p.test ? ' (test)' : ''}</td>
<td>${statusLabel(p.status)}${p.rejection ? ` ${escapeHtml(p.rejection.code)}` : ''}</td><td>${related}</td><td>${actions}</td></tr>`;
    })
    .join('');
  const webhookRows = webhooks
    .slice(-10)
    .reverse()
    .map((w) => `<tr><td>${escapeHtml(w.at)}</td><td>${escapeHtml(w.topic)}</td><td>${escapeHtml(w.status || w.error)}</td></tr>`)
    .join('');
  return layout(
    `Admin · ${shop.domain}`,
    `<h1>${escapeHtml(shop.name)} <span class="muted">${escapeHtml(shop.domain)}</span></h1>
<section><h2>Apps</h2>
<p>${escapeHtml(app?.name ?? 'Payments app')}: ${shop.installed ? `<span class="ok">installed</span> (${escapeHtml(shop.grantedScopes.join(', '))})` : '<span class="muted">not installed</span>'}</p>
<p><a href="/admin/apps/open?${qs}">${shop.installed ? 'Open app' : 'Install app'}</a></p>
${shop.installed ? `<form method="post" action="/admin/apps/uninstall?${qs}"><button class="secondary" type="submit">Uninstall app</button></form>` : ''}</section>
<section><h2>Payments</h2>${provider}</section>
<section><h2>Orders</h2>${paymentRows ? `<table><tr><th>payment session</th><th>amount</th><th>kind</th><th>state</th><th>refunds / captures / voids</th><th></th></tr>${paymentRows}</table>` : '<p class="muted">No payments yet.</p>'}</section>
${ordersSection(shop, input.orders ?? [], input.metafieldsOf)}
<section><h2>Webhooks sent</h2>${webhookRows ? `<table><tr><th>at</th><th>topic</th><th>HTTP</th></tr>${webhookRows}</table>` : '<p class="muted">None.</p>'}</section>`,
  );
}

export function shopListPage(shops: ShopRecord[]): string {
  const rows = shops.map((s) => `<li><a href="/admin?shop=${encodeURIComponent(s.domain)}">${escapeHtml(s.domain)}</a></li>`).join('');
  return layout(
    'Admin',
    `<h1>Shopify admin</h1><section><h2>Choose a shop</h2>${rows ? `<ul>${rows}</ul>` : '<p class="muted">No shops yet.</p>'}
<form method="post" action="/shops"><label>New shop <input name="domain" placeholder="demo.myshopify.com"></label> <button class="secondary" type="submit">Add shop</button></form></section>`,
  );
}

export function sendFailedPage(what: string, status: number, body: unknown, error?: string): string {
  return layout(
    `${what} failed`,
    `<section><h1 class="bad">${escapeHtml(what)} failed</h1>
<p>The app answered ${status ? `HTTP ${status}` : `nothing (${escapeHtml(error)})`}.</p><pre>${escapeHtml(typeof body === 'string' ? body : JSON.stringify(body, null, 2))}</pre>
<p><a href="/">Back</a></p></section>`,
  );
}
