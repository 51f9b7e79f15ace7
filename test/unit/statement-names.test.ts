import { StatementNames } from '../../src/db/sql';

/** Prepared statements on the embedded database (src/db/sql.ts): one name per text, bounded. */
describe('StatementNames', () => {
  it('gives a text the same name every time, and another text another name', () => {
    const names = new StatementNames();
    const a = names.of('SELECT * FROM "PaymentSession" WHERE id = $1::uuid');
    const b = names.of('SELECT * FROM "Shop" WHERE domain = $1');
    expect(a).toEqual(expect.any(String));
    expect(b).not.toBe(a);
    expect(names.of('SELECT * FROM "PaymentSession" WHERE id = $1::uuid')).toBe(a);
  });

  it('names at most 500 texts; the others stay unnamed (parsed each time), the named keep their names', () => {
    const names = new StatementNames();
    const first = names.of('SELECT 0');
    for (let i = 1; i < 500; i++) expect(names.of(`SELECT ${i}`)).toEqual(expect.any(String));
    expect(names.of('SELECT 500')).toBeUndefined();
    expect(names.of('SELECT 0')).toBe(first);
    expect(new Set(Array.from({ length: 500 }, (_, i) => names.of(`SELECT ${i}`))).size).toBe(500);
  });
});
