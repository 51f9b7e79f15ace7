-- Orders and reconciliation (README "Orders", "Reconciliation"): the Shopify order each Flex payment
-- became, its Flex payment intents, the order poller's place per shop, Flex payouts with their balance
-- transactions, and where reading them stands per shop and mode.

-- CreateTable
CREATE TABLE "ShopifyOrder" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "paymentSessionId" UUID NOT NULL,
    "shopifyOrderId" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "test" BOOLEAN NOT NULL,
    "currency" TEXT NOT NULL,
    "totalMinor" BIGINT NOT NULL,
    "otherPaymentsMinor" BIGINT NOT NULL DEFAULT 0,
    "orderCreatedAt" TIMESTAMPTZ(3) NOT NULL,
    "linkedVia" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "flexCheckoutSessionId" TEXT,
    "hsaFsaMinor" BIGINT NOT NULL DEFAULT 0,
    "cardMinor" BIGINT NOT NULL DEFAULT 0,
    "lmnRequired" BOOLEAN,
    "lineEligibility" JSONB,
    "shopifyLines" JSONB NOT NULL DEFAULT '[]',
    "differences" JSONB NOT NULL DEFAULT '[]',
    "flaggedAt" TIMESTAMPTZ(3),
    "annotation" JSONB,
    "annotationDigest" TEXT,
    "annotatedAt" TIMESTAMPTZ(3),
    "noteWrittenAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ShopifyOrder_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FlexPaymentIntent" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "paymentSessionId" UUID NOT NULL,
    "flexPaymentIntentId" TEXT NOT NULL,
    "cardType" TEXT,
    "status" TEXT,
    "amountMinor" BIGINT,
    "amountReceivedMinor" BIGINT NOT NULL DEFAULT 0,
    "amountCapturableMinor" BIGINT NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FlexPaymentIntent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OrderSyncState" (
    "shopId" UUID NOT NULL,
    "nextPollAt" TIMESTAMPTZ(3),
    "pollAttempts" INTEGER NOT NULL DEFAULT 0,
    "scanFrom" TIMESTAMPTZ(3),
    "scanCursor" TEXT,
    "metafieldDefinitionsVersion" INTEGER NOT NULL DEFAULT 0,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "OrderSyncState_pkey" PRIMARY KEY ("shopId")
);

-- CreateTable
CREATE TABLE "FlexPayout" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "mode" "FlexMode" NOT NULL,
    "flexPayoutId" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "amountMinor" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "arrivalDate" TIMESTAMPTZ(3) NOT NULL,
    "flexCreatedAt" TIMESTAMPTZ(3) NOT NULL,
    "complete" BOOLEAN NOT NULL DEFAULT false,
    "btCursor" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FlexPayout_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FlexBalanceTransaction" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "mode" "FlexMode" NOT NULL,
    "payoutId" UUID NOT NULL,
    "flexBalanceTransactionId" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "reportingCategory" TEXT,
    "amountMinor" BIGINT NOT NULL,
    "feeMinor" BIGINT NOT NULL,
    "netMinor" BIGINT NOT NULL,
    "transactionFeeMinor" BIGINT NOT NULL DEFAULT 0,
    "interchangeFeeMinor" BIGINT NOT NULL DEFAULT 0,
    "lmnFeeMinor" BIGINT NOT NULL DEFAULT 0,
    "disputeFeeMinor" BIGINT NOT NULL DEFAULT 0,
    "cardType" TEXT,
    "checkoutSessionId" TEXT,
    "clientReferenceId" TEXT,
    "paymentIntentId" TEXT,
    "sourceId" TEXT,
    "currency" TEXT NOT NULL,
    "flexCreatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "FlexBalanceTransaction_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ReconciliationCursor" (
    "shopId" UUID NOT NULL,
    "mode" "FlexMode" NOT NULL,
    "nextRunAt" TIMESTAMPTZ(3),
    "sweepAfter" TEXT,
    "doneBefore" TIMESTAMPTZ(3),
    "lastRunAt" TIMESTAMPTZ(3),
    "lastError" TEXT,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ReconciliationCursor_pkey" PRIMARY KEY ("shopId","mode")
);

-- CreateIndex
CREATE INDEX "ShopifyOrder_shopId_flaggedAt_idx" ON "ShopifyOrder"("shopId", "flaggedAt");

-- CreateIndex
CREATE INDEX "ShopifyOrder_shopId_orderCreatedAt_idx" ON "ShopifyOrder"("shopId", "orderCreatedAt");

-- CreateIndex
CREATE UNIQUE INDEX "ShopifyOrder_shopId_shopifyOrderId_key" ON "ShopifyOrder"("shopId", "shopifyOrderId");

-- CreateIndex
CREATE UNIQUE INDEX "ShopifyOrder_paymentSessionId_key" ON "ShopifyOrder"("paymentSessionId");

-- CreateIndex
CREATE INDEX "FlexPaymentIntent_paymentSessionId_idx" ON "FlexPaymentIntent"("paymentSessionId");

-- CreateIndex
CREATE UNIQUE INDEX "FlexPaymentIntent_shopId_flexPaymentIntentId_key" ON "FlexPaymentIntent"("shopId", "flexPaymentIntentId");

-- CreateIndex
CREATE INDEX "FlexPayout_shopId_mode_arrivalDate_idx" ON "FlexPayout"("shopId", "mode", "arrivalDate");

-- CreateIndex
CREATE UNIQUE INDEX "FlexPayout_shopId_mode_flexPayoutId_key" ON "FlexPayout"("shopId", "mode", "flexPayoutId");

-- CreateIndex
CREATE INDEX "FlexBalanceTransaction_shopId_mode_checkoutSessionId_idx" ON "FlexBalanceTransaction"("shopId", "mode", "checkoutSessionId");

-- CreateIndex
CREATE INDEX "FlexBalanceTransaction_payoutId_idx" ON "FlexBalanceTransaction"("payoutId");

-- CreateIndex
CREATE UNIQUE INDEX "FlexBalanceTransaction_shopId_mode_flexBalanceTransactionId_key" ON "FlexBalanceTransaction"("shopId", "mode", "flexBalanceTransactionId");

-- CreateIndex
CREATE INDEX "PaymentSession_status_decidedAt_idx" ON "PaymentSession"("status", "decidedAt");

-- AddForeignKey
ALTER TABLE "ShopifyOrder" ADD CONSTRAINT "ShopifyOrder_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ShopifyOrder" ADD CONSTRAINT "ShopifyOrder_paymentSessionId_fkey" FOREIGN KEY ("paymentSessionId") REFERENCES "PaymentSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FlexPaymentIntent" ADD CONSTRAINT "FlexPaymentIntent_paymentSessionId_fkey" FOREIGN KEY ("paymentSessionId") REFERENCES "PaymentSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "OrderSyncState" ADD CONSTRAINT "OrderSyncState_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FlexPayout" ADD CONSTRAINT "FlexPayout_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FlexBalanceTransaction" ADD CONSTRAINT "FlexBalanceTransaction_payoutId_fkey" FOREIGN KEY ("payoutId") REFERENCES "FlexPayout"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ReconciliationCursor" ADD CONSTRAINT "ReconciliationCursor_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

