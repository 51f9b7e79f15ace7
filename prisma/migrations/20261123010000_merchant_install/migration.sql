-- AlterTable
ALTER TABLE "FlexConnection" ADD COLUMN     "webhookRefusalReason" TEXT,
ADD COLUMN     "webhookRefusedAt" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "ShopifyWebhookDelivery" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopDomain" TEXT NOT NULL,
    "webhookId" TEXT NOT NULL,
    "topic" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "processedAt" TIMESTAMPTZ(3),
    "outcome" TEXT,

    CONSTRAINT "ShopifyWebhookDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "ShopifyWebhookDelivery_webhookId_key" ON "ShopifyWebhookDelivery"("webhookId");

-- CreateIndex
CREATE INDEX "ShopifyWebhookDelivery_shopDomain_receivedAt_idx" ON "ShopifyWebhookDelivery"("shopDomain", "receivedAt");

