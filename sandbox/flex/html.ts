// Shared bits of the sandbox's server-rendered pages: no external assets, everything inline.

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const dollars = Math.floor(abs / 100).toLocaleString('en-US');
  return `${sign}$${dollars}.${String(abs % 100).padStart(2, '0')}`;
}

const STYLE = `
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: #f5f6f8; color: #1d2330; }
  main { max-width: 760px; margin: 2rem auto; background: #fff; border-radius: 10px; padding: 1.5rem 2rem; box-shadow: 0 1px 4px rgba(0,0,0,.08); }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
  .test-banner { background: #fff4d6; border: 1px solid #f0c36d; color: #6b4b00; padding: .5rem .75rem; border-radius: 6px; margin-bottom: 1rem; font-weight: 600; }
  table { width: 100%; border-collapse: collapse; margin: .5rem 0; font-size: .92rem; }
  th, td { text-align: left; padding: .35rem .4rem; border-bottom: 1px solid #e6e8ec; vertical-align: top; }
  td.num, th.num { text-align: right; white-space: nowrap; }
  tfoot td { font-weight: 700; }
  .actions { display: grid; gap: .6rem; margin-top: 1.25rem; }
  .actions button { font-size: 1rem; padding: .7rem 1rem; border-radius: 6px; border: 1px solid #c9ced6; background: #fff; cursor: pointer; text-align: left; }
  .actions button.primary { background: #1d4ed8; border-color: #1d4ed8; color: #fff; }
  .hint { color: #5b6473; font-size: .85rem; }
  code { font-size: .85rem; word-break: break-all; }
  .error { color: #a4161a; }
`;

export function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}
