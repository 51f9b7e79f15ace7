import { addLogContext, outsideLogContext, withLogContext, withOwnLogContext } from '../../src/lib/log-context';
import { createLogger } from '../../src/lib/logger';

/** The log context: what the work in progress concerns, on every line written while doing it. */
describe('log context', () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => lines.push(line) } });
  const last = () => JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;

  beforeEach(() => (lines.length = 0));

  it('adds the context to lines written anywhere inside, across awaits, including fields added on the way', async () => {
    await withLogContext({ shop: 'a.myshopify.com' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      addLogContext({ paymentSessionId: 'p1' });
      logger.child({ component: 'deep' }).info('inside');
    });
    expect(last()).toMatchObject({ msg: 'inside', component: 'deep', shop: 'a.myshopify.com', paymentSessionId: 'p1' });
    logger.info('outside');
    expect(last().shop).toBeUndefined();
    addLogContext({ shop: 'ignored' });
    logger.info('still outside');
    expect(last().shop).toBeUndefined();
  });

  it("lets a line's own fields win and never writes a key the logger is bound to twice", () => {
    withLogContext({ shop: 'a.myshopify.com', paymentSessionId: 'p1' }, () => {
      logger.info({ shop: 'b.myshopify.com' }, 'own field');
      expect(last().shop).toBe('b.myshopify.com');
      logger.child({ paymentSessionId: 'p1' }).info('bound');
    });
    expect(lines[1]!.match(/"paymentSessionId":/g)).toHaveLength(1);
  });

  it('nests without changing the outer context, and a context of its own inherits nothing', () => {
    withLogContext({ shop: 'a.myshopify.com' }, () => {
      withLogContext({ paymentSessionId: 'p1' }, () => addLogContext({ refundSessionId: 'r1' }));
      logger.info('outer');
      expect(last()).toMatchObject({ shop: 'a.myshopify.com' });
      expect(last().paymentSessionId).toBeUndefined();
      expect(last().refundSessionId).toBeUndefined();
      withOwnLogContext({ shopId: 's' }, () => logger.info('own'));
      expect(last()).toMatchObject({ shopId: 's' });
      expect(last().shop).toBeUndefined();
      outsideLogContext(() => logger.info('none'));
      expect(last().shop).toBeUndefined();
    });
  });
});
