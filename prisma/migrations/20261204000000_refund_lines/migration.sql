-- Refunds by line (issue 11.4): the order refunds Shopify reports (refunds/create), and how each refund
-- session goes to Flex (by line or by amount, and why).

-- AlterTable
ALTER TABLE "RefundSession" ADD COLUMN     "lineBreakdown" JSONB,
ADD COLUMN     "linesDecidedAt" TIMESTAMPTZ(3),
ADD COLUMN     "linesReason" TEXT;

-- CreateTable
CREATE TABLE "ShopifyOrderRefund" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "shopifyRefundId" TEXT NOT NULL,
    "shopifyOrderId" TEXT NOT NULL,
    "paymentSessionId" UUID,
    "amountMinor" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "lines" JSONB NOT NULL,
    "shippingMinor" BIGINT NOT NULL DEFAULT 0,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL,
    "refundSessionId" UUID,

    CONSTRAINT "ShopifyOrderRefund_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ShopifyOrderRefund_refundSessionId_key" ON "ShopifyOrderRefund"("refundSessionId");

-- CreateIndex
CREATE INDEX "ShopifyOrderRefund_paymentSessionId_refundSessionId_idx" ON "ShopifyOrderRefund"("paymentSessionId", "refundSessionId");

-- CreateIndex
CREATE UNIQUE INDEX "ShopifyOrderRefund_shopId_shopifyRefundId_key" ON "ShopifyOrderRefund"("shopId", "shopifyRefundId");

-- AddForeignKey
ALTER TABLE "ShopifyOrderRefund" ADD CONSTRAINT "ShopifyOrderRefund_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ShopifyOrderRefund" ADD CONSTRAINT "ShopifyOrderRefund_refundSessionId_fkey" FOREIGN KEY ("refundSessionId") REFERENCES "RefundSession"("id") ON DELETE SET NULL ON UPDATE CASCADE;

