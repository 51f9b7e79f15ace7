-- Issue 9 (hardening): fenced checkout leases, generations in the idempotency keys of objects Flex can
-- delete, money Flex took after a decision, no state written by unsigned webhooks.
-- AlterTable
ALTER TABLE "FlexConnection" DROP COLUMN "webhookRefusalReason",
DROP COLUMN "webhookRefusedAt",
ADD COLUMN     "catchAllPriceGeneration" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "PaymentSession" ADD COLUMN     "checkoutLeaseToken" TEXT,
ADD COLUMN     "flexPaidAfterDecisionAt" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "PaymentSession_shopId_groupId_idx" ON "PaymentSession"("shopId", "groupId");

