-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "ShopStatus" AS ENUM ('ACTIVE', 'UNINSTALLED');

-- CreateEnum
CREATE TYPE "FlexMode" AS ENUM ('LIVE', 'TEST');

-- CreateEnum
CREATE TYPE "PaymentKind" AS ENUM ('SALE', 'AUTHORIZATION');

-- CreateEnum
CREATE TYPE "PaymentStatus" AS ENUM ('RECEIVED', 'CHECKOUT_CREATED', 'PENDING', 'RESOLVED', 'REJECTED');

-- CreateEnum
CREATE TYPE "DecisionSource" AS ENUM ('BUYER_RETURN', 'BUYER_CANCEL', 'FLEX_WEBHOOK', 'RECONCILER');

-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'NEEDS_ATTENTION', 'CANCELED');

-- CreateTable
CREATE TABLE "Session" (
    "id" TEXT NOT NULL,
    "shop" TEXT NOT NULL,
    "state" TEXT NOT NULL,
    "isOnline" BOOLEAN NOT NULL DEFAULT false,
    "scope" TEXT,
    "expires" TIMESTAMP(3),
    "accessToken" TEXT NOT NULL,
    "userId" BIGINT,
    "firstName" TEXT,
    "lastName" TEXT,
    "email" TEXT,
    "accountOwner" BOOLEAN,
    "locale" TEXT,
    "collaborator" BOOLEAN,
    "emailVerified" BOOLEAN,
    "refreshToken" TEXT,
    "refreshTokenExpires" TIMESTAMP(3),

    CONSTRAINT "Session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Shop" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "domain" TEXT NOT NULL,
    "status" "ShopStatus" NOT NULL DEFAULT 'ACTIVE',
    "paymentsAppReady" BOOLEAN NOT NULL DEFAULT false,
    "externalHandle" TEXT,
    "installedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "uninstalledAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Shop_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FlexConnection" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "mode" "FlexMode" NOT NULL,
    "apiKeyCiphertext" TEXT NOT NULL,
    "apiKeyHint" TEXT NOT NULL,
    "webhookEndpointId" TEXT,
    "webhookSecretCiphertext" TEXT,
    "catchAllProductId" TEXT,
    "keyRejectedAt" TIMESTAMPTZ(3),
    "verifiedAt" TIMESTAMPTZ(3) NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FlexConnection_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FlexCatchAllPrice" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "connectionId" UUID NOT NULL,
    "currency" TEXT NOT NULL,
    "amountMinor" BIGINT NOT NULL,
    "flexPriceId" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FlexCatchAllPrice_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PaymentSession" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "shopifyId" TEXT NOT NULL,
    "gid" TEXT NOT NULL,
    "groupId" TEXT NOT NULL,
    "buyerSessionId" TEXT,
    "amountMinor" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "kind" "PaymentKind" NOT NULL,
    "test" BOOLEAN NOT NULL,
    "cancelUrl" TEXT NOT NULL,
    "merchantLocale" TEXT,
    "proposedAt" TIMESTAMPTZ(3),
    "customer" JSONB,
    "rawRequest" JSONB NOT NULL,
    "requestFingerprint" TEXT NOT NULL,
    "apiVersion" TEXT NOT NULL,
    "shopifyRequestId" TEXT,
    "status" "PaymentStatus" NOT NULL DEFAULT 'RECEIVED',
    "checkoutLeaseUntil" TIMESTAMPTZ(3),
    "checkoutAttempts" INTEGER NOT NULL DEFAULT 0,
    "flexCheckoutSessionId" TEXT,
    "flexRedirectUrl" TEXT,
    "decisionSource" "DecisionSource",
    "decidedAt" TIMESTAMPTZ(3),
    "rejectionCode" TEXT,
    "rejectionMessage" TEXT,
    "authorizationExpiresAt" TIMESTAMPTZ(3),
    "pendingExpiresAt" TIMESTAMPTZ(3),
    "shopifyState" TEXT,
    "nextActionUrl" TEXT,
    "buyerReturnedAt" TIMESTAMPTZ(3),
    "buyerCanceledAt" TIMESTAMPTZ(3),
    "nextReconcileAt" TIMESTAMPTZ(3),
    "reconcileAttempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PaymentSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "PaymentEvent" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "paymentSessionId" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "detail" JSONB,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "PaymentEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Job" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID,
    "kind" TEXT NOT NULL,
    "dedupeKey" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "subjectType" TEXT,
    "subjectId" TEXT,
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "runAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lockedUntil" TIMESTAMPTZ(3),
    "lockToken" TEXT,
    "lastAttemptAt" TIMESTAMPTZ(3),
    "lastError" TEXT,
    "result" JSONB,
    "completedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Job_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FlexWebhookDelivery" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "mode" "FlexMode" NOT NULL,
    "deliveryId" TEXT NOT NULL,
    "eventId" TEXT,
    "eventType" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "receivedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "outcome" TEXT,

    CONSTRAINT "FlexWebhookDelivery_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Session_shop_idx" ON "Session"("shop");

-- CreateIndex
CREATE UNIQUE INDEX "Shop_domain_key" ON "Shop"("domain");

-- CreateIndex
CREATE UNIQUE INDEX "FlexConnection_shopId_mode_key" ON "FlexConnection"("shopId", "mode");

-- CreateIndex
CREATE UNIQUE INDEX "FlexCatchAllPrice_connectionId_currency_amountMinor_key" ON "FlexCatchAllPrice"("connectionId", "currency", "amountMinor");

-- CreateIndex
CREATE INDEX "PaymentSession_nextReconcileAt_idx" ON "PaymentSession"("nextReconcileAt");

-- CreateIndex
CREATE INDEX "PaymentSession_shopId_createdAt_idx" ON "PaymentSession"("shopId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "PaymentSession_shopId_shopifyId_key" ON "PaymentSession"("shopId", "shopifyId");

-- CreateIndex
CREATE UNIQUE INDEX "PaymentSession_shopId_flexCheckoutSessionId_key" ON "PaymentSession"("shopId", "flexCheckoutSessionId");

-- CreateIndex
CREATE INDEX "PaymentEvent_paymentSessionId_createdAt_idx" ON "PaymentEvent"("paymentSessionId", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "Job_dedupeKey_key" ON "Job"("dedupeKey");

-- CreateIndex
CREATE INDEX "Job_status_runAt_idx" ON "Job"("status", "runAt");

-- CreateIndex
CREATE INDEX "Job_subjectType_subjectId_idx" ON "Job"("subjectType", "subjectId");

-- CreateIndex
CREATE INDEX "Job_shopId_status_idx" ON "Job"("shopId", "status");

-- CreateIndex
CREATE INDEX "FlexWebhookDelivery_shopId_receivedAt_idx" ON "FlexWebhookDelivery"("shopId", "receivedAt");

-- CreateIndex
CREATE UNIQUE INDEX "FlexWebhookDelivery_shopId_deliveryId_key" ON "FlexWebhookDelivery"("shopId", "deliveryId");

-- AddForeignKey
ALTER TABLE "FlexConnection" ADD CONSTRAINT "FlexConnection_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FlexCatchAllPrice" ADD CONSTRAINT "FlexCatchAllPrice_connectionId_fkey" FOREIGN KEY ("connectionId") REFERENCES "FlexConnection"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PaymentSession" ADD CONSTRAINT "PaymentSession_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "PaymentEvent" ADD CONSTRAINT "PaymentEvent_paymentSessionId_fkey" FOREIGN KEY ("paymentSessionId") REFERENCES "PaymentSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

