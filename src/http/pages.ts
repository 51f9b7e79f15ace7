/** Small server-rendered pages for buyers passing through the app. No external assets. */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function page(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
${head}
<style>
  body { font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, sans-serif; background: #f6f6f7; color: #202223; margin: 0; }
  main { max-width: 32rem; margin: 12vh auto; background: #fff; border-radius: 12px; padding: 2rem; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
  h1 { font-size: 1.25rem; margin-top: 0; }
  a { color: #2c6ecb; }
</style>
</head>
<body><main>${body}</main></body>
</html>`;
}

export function processingPage(refreshUrl: string): string {
  return page(
    'Confirming your payment',
    `<h1>Confirming your payment…</h1>
<p>Flex has your payment details; we are confirming the order with the store. This page updates by itself.</p>
<p><a href="${escapeHtml(refreshUrl)}">Check again</a></p>`,
    `<meta http-equiv="refresh" content="3;url=${escapeHtml(refreshUrl)}">`,
  );
}

export function notFoundPage(): string {
  return page('Payment not found', '<h1>Payment not found</h1><p>This payment link is not valid. Return to the store and try again.</p>');
}
