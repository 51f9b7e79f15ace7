-- The checkout token of cancel_url, for the pay page's claim to read the cart in the same statement.
-- Rows stored before it keep NULL: their pay page finds the token in cancel_url and reads the cart on its own.
-- A nullable column with no default changes only the catalog, but takes the table's ACCESS EXCLUSIVE lock:
-- rather than queue behind a long transaction (and hold every payment behind itself), it gives up after
-- 5 s; the migration then rolls back and is tried again at the next start.
SET LOCAL lock_timeout = '5s';
ALTER TABLE "PaymentSession" ADD COLUMN "checkoutToken" TEXT;
