-- Retention (README "Retention"): when buyer data was pruned from a row, and an index that finds the
-- rows still to prune, oldest first, without walking the ones already pruned.

-- AlterTable
ALTER TABLE "PaymentSession" ADD COLUMN     "prunedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "RefundSession" ADD COLUMN     "prunedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "CaptureSession" ADD COLUMN     "prunedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "VoidSession" ADD COLUMN     "prunedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "FlexWebhookDelivery" ADD COLUMN     "prunedAt" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "ShopifyWebhookDelivery" ADD COLUMN     "prunedAt" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "PaymentSession_prunedAt_createdAt_idx" ON "PaymentSession"("prunedAt", "createdAt");

-- CreateIndex
CREATE INDEX "RefundSession_prunedAt_createdAt_idx" ON "RefundSession"("prunedAt", "createdAt");

-- CreateIndex
CREATE INDEX "CaptureSession_prunedAt_createdAt_idx" ON "CaptureSession"("prunedAt", "createdAt");

-- CreateIndex
CREATE INDEX "VoidSession_prunedAt_createdAt_idx" ON "VoidSession"("prunedAt", "createdAt");

-- CreateIndex
CREATE INDEX "FlexWebhookDelivery_prunedAt_receivedAt_idx" ON "FlexWebhookDelivery"("prunedAt", "receivedAt");

-- CreateIndex
CREATE INDEX "ShopifyWebhookDelivery_prunedAt_receivedAt_idx" ON "ShopifyWebhookDelivery"("prunedAt", "receivedAt");

