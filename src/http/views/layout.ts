import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { escapeHtml as e } from './html';

/** Where every page gets its look: `styles.css` beside this file, served by the app itself. */
export const STYLESHEET_PATH = '/assets/app.css';

let stylesheet: string | undefined;

/** The stylesheet's text, read once (from src/ in tests, from the copy the build puts in dist/). */
export function stylesheetText(): string {
  if (stylesheet === undefined) {
    const candidates = [path.join(__dirname, 'styles.css'), path.resolve(__dirname, '..', '..', '..', '..', 'src', 'http', 'views', 'styles.css')];
    const found = candidates.find((file) => existsSync(file));
    if (!found) throw new Error(`styles.css not found next to ${__dirname}`);
    stylesheet = readFileSync(found, 'utf8');
  }
  return stylesheet;
}

/**
 * The one layout of the app's server-rendered pages: no scripts, nothing loaded from outside the
 * app (the stylesheet is ours), the brand bar with room for the merchant's shop and links.
 */
export function layout(title: string, body: string, options: { head?: string; topbar?: string } = {}): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)}</title>
${options.head ?? ''}
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<header class="topbar"><div class="brand"><span class="logo" aria-hidden="true">F</span>Flex HSA/FSA payments</div>${options.topbar ?? ''}</header>
${body}
</body>
</html>`;
}

/** A page with one card: a title, a message and optional actions. */
export function messagePage(title: string, message: string, extra = '', head = ''): string {
  return layout(title, `<main class="page"><div class="card center"><h1>${e(title)}</h1><p>${e(message)}</p>${extra}</div></main>`, { head });
}
