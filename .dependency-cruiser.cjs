// The architecture rule (README "Architecture"), checked by test/unit/architecture.test.ts:
//
//   http → payments | merchant | orders | reconciliation → cart | catalog → flex | shopify | outbox → db → lib
//
// Each layer imports only from layers below it; modules of one layer do not import each other;
// only app/ (the composition root), the CLI and the entry points import across all of them; src/
// never imports the sandboxes, the development entry point, the benchmarks or the tests. Inside
// payments/, each Shopify hook (payment, refund, capture, void) reads top to bottom in its own
// folder: hooks do not reach into each other, and the parts they share (payments/*.ts and
// payments/operation/) do not reach into any hook.
const LAYERS = {
  lib: [],
  db: ['lib'],
  flex: ['db', 'lib'],
  shopify: ['db', 'lib'],
  outbox: ['db', 'lib'],
  // The catalog sync: a use case of its own that connecting Flex, products/* webhooks (merchant) and
  // pricing a cart (payments) build on.
  catalog: ['flex', 'shopify', 'outbox', 'db', 'lib'],
  cart: ['flex', 'shopify', 'outbox', 'db', 'lib'],
  payments: ['cart', 'catalog', 'flex', 'shopify', 'outbox', 'db', 'lib'],
  merchant: ['cart', 'catalog', 'flex', 'shopify', 'outbox', 'db', 'lib'],
  orders: ['cart', 'catalog', 'flex', 'shopify', 'outbox', 'db', 'lib'],
  reconciliation: ['flex', 'shopify', 'outbox', 'db', 'lib'],
  http: ['payments', 'merchant', 'orders', 'reconciliation', 'cart', 'catalog', 'flex', 'shopify', 'outbox', 'db', 'lib'],
};

const layerRules = Object.entries(LAYERS).map(([layer, below]) => ({
  name: `layer-${layer}`,
  comment: `src/${layer}/ may import only ${below.length ? below.map((l) => `src/${l}/`).join(', ') : 'itself'} (and packages)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: '^src/', pathNot: [`^src/${layer}/`, ...below.map((l) => `^src/${l}/`)] },
}));

const HOOKS = ['payment', 'refund', 'capture', 'void'];

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'payments-hooks-stay-apart',
      comment: "A hook folder does not import another hook's internals; what they share lives in payments/*.ts or payments/operation/",
      severity: 'error',
      from: { path: '^src/payments/(payment|refund|capture|void)/' },
      to: { path: '^src/payments/(payment|refund|capture|void)/', pathNot: '^src/payments/$1/' },
    },
    {
      name: 'payments-shared-parts-know-no-hook',
      comment: 'The parts the hooks share do not depend on any one hook',
      severity: 'error',
      from: { path: '^src/payments/(operation/|[^/]+\\.ts$)' },
      to: { path: `^src/payments/(${HOOKS.join('|')})/` },
    },
    {
      name: 'composition-only-at-the-top',
      comment: 'Only the entry points and the CLI use the composition root and the configuration',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(app/|cli/|main\\.ts$|config\\.ts$)' },
      to: { path: '^src/(app/|cli/|main\\.ts$|config\\.ts$)' },
    },
    {
      name: 'app-code-only',
      comment: 'The app never imports the sandboxes, the development entry point, the benchmarks or the tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(sandbox|dev|bench|test)/' },
    },
    {
      name: 'sandboxes-are-independent',
      comment: 'The sandboxes are the other side of the wire: they share no code with the app',
      severity: 'error',
      from: { path: '^sandbox/' },
      to: { path: '^src/' },
    },
    { name: 'no-cycles', severity: 'error', from: { path: '^src/' }, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '(^|/)node_modules/' },
  },
};
