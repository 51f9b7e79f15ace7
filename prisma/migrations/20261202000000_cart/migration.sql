-- The buyer's cart reaches Flex (issue 10): cart snapshots from the pixel and the checkout webhooks,
-- the pixel key of each shop, and what each payment's Flex checkout was made of.

-- CreateEnum
CREATE TYPE "PaymentCartSource" AS ENUM ('CART', 'CATCH_ALL');

-- CreateEnum
CREATE TYPE "CartSnapshotSource" AS ENUM ('PIXEL', 'WEBHOOK');

-- AlterTable
ALTER TABLE "Shop" ADD COLUMN     "pixelActivatedAt" TIMESTAMPTZ(3),
ADD COLUMN     "pixelKey" TEXT,
ADD COLUMN     "pixelProblem" TEXT,
ADD COLUMN     "webPixelId" TEXT;

-- AlterTable
ALTER TABLE "PaymentSession" ADD COLUMN     "cartAdjustmentMinor" BIGINT,
ADD COLUMN     "cartDiscountMinor" BIGINT,
ADD COLUMN     "cartFallbackReason" TEXT,
ADD COLUMN     "cartShippingMinor" BIGINT,
ADD COLUMN     "cartSnapshotId" TEXT,
ADD COLUMN     "cartSource" "PaymentCartSource",
ADD COLUMN     "cartTaxMinor" BIGINT;

-- CreateTable
CREATE TABLE "PaymentCartLine" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "paymentSessionId" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "shopifyVariantId" TEXT NOT NULL,
    "shopifyProductId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "unitAmountMinor" BIGINT NOT NULL,
    "discountMinor" BIGINT NOT NULL,
    "flexProductId" TEXT NOT NULL,
    "flexPriceId" TEXT NOT NULL,
    "eligibility" TEXT,

    CONSTRAINT "PaymentCartLine_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CartSnapshot" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "source" "CartSnapshotSource" NOT NULL,
    "checkoutToken" TEXT NOT NULL,
    "cartToken" TEXT,
    "urlToken" TEXT,
    "currency" TEXT NOT NULL,
    "totalMinor" BIGINT NOT NULL,
    "subtotalMinor" BIGINT NOT NULL,
    "taxMinor" BIGINT NOT NULL,
    "shippingMinor" BIGINT NOT NULL,
    "discountMinor" BIGINT NOT NULL,
    "lines" JSONB NOT NULL,
    "observedAt" TIMESTAMPTZ(3) NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "CartSnapshot_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "PaymentCartLine_paymentSessionId_position_key" ON "PaymentCartLine"("paymentSessionId", "position");

-- CreateIndex
CREATE INDEX "CartSnapshot_shopId_checkoutToken_idx" ON "CartSnapshot"("shopId", "checkoutToken");

-- CreateIndex
CREATE INDEX "CartSnapshot_shopId_cartToken_idx" ON "CartSnapshot"("shopId", "cartToken");

-- CreateIndex
CREATE INDEX "CartSnapshot_shopId_urlToken_idx" ON "CartSnapshot"("shopId", "urlToken");

-- CreateIndex
CREATE INDEX "CartSnapshot_expiresAt_idx" ON "CartSnapshot"("expiresAt");

-- CreateIndex
CREATE UNIQUE INDEX "CartSnapshot_shopId_source_checkoutToken_key" ON "CartSnapshot"("shopId", "source", "checkoutToken");

-- CreateIndex
CREATE UNIQUE INDEX "Shop_pixelKey_key" ON "Shop"("pixelKey");

-- CreateIndex
CREATE INDEX "PaymentSession_shopId_cartSource_createdAt_idx" ON "PaymentSession"("shopId", "cartSource", "createdAt");

-- AddForeignKey
ALTER TABLE "PaymentCartLine" ADD CONSTRAINT "PaymentCartLine_paymentSessionId_fkey" FOREIGN KEY ("paymentSessionId") REFERENCES "PaymentSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CartSnapshot" ADD CONSTRAINT "CartSnapshot_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

