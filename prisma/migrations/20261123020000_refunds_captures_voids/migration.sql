-- CreateEnum
CREATE TYPE "RefundStatus" AS ENUM ('RECEIVED', 'PENDING', 'SUCCEEDED', 'FAILED', 'REJECTED');

-- CreateEnum
CREATE TYPE "CaptureStatus" AS ENUM ('RECEIVED', 'SUCCEEDED', 'REJECTED');

-- CreateEnum
CREATE TYPE "VoidStatus" AS ENUM ('RECEIVED', 'SUCCEEDED', 'REJECTED');

-- CreateTable
CREATE TABLE "RefundSession" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "paymentSessionId" UUID NOT NULL,
    "shopifyId" TEXT NOT NULL,
    "gid" TEXT NOT NULL,
    "amountMinor" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "test" BOOLEAN NOT NULL,
    "merchantLocale" TEXT,
    "proposedAt" TIMESTAMPTZ(3),
    "rawRequest" JSONB NOT NULL,
    "requestFingerprint" TEXT NOT NULL,
    "apiVersion" TEXT NOT NULL,
    "shopifyRequestId" TEXT,
    "status" "RefundStatus" NOT NULL DEFAULT 'RECEIVED',
    "rejectionCode" TEXT,
    "rejectionMessage" TEXT,
    "decidedAt" TIMESTAMPTZ(3),
    "shopifyState" TEXT,
    "nextPollAt" TIMESTAMPTZ(3),
    "pollAttempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "RefundSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "FlexRefund" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "refundSessionId" UUID NOT NULL,
    "shopId" UUID NOT NULL,
    "flexRefundId" TEXT NOT NULL,
    "amountMinor" BIGINT,
    "status" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "FlexRefund_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CaptureSession" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "paymentSessionId" UUID NOT NULL,
    "shopifyId" TEXT NOT NULL,
    "gid" TEXT NOT NULL,
    "amountMinor" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "test" BOOLEAN NOT NULL,
    "finalCapture" BOOLEAN NOT NULL DEFAULT true,
    "merchantLocale" TEXT,
    "proposedAt" TIMESTAMPTZ(3),
    "rawRequest" JSONB NOT NULL,
    "requestFingerprint" TEXT NOT NULL,
    "apiVersion" TEXT NOT NULL,
    "shopifyRequestId" TEXT,
    "status" "CaptureStatus" NOT NULL DEFAULT 'RECEIVED',
    "flexCaptureId" TEXT,
    "rejectionCode" TEXT,
    "rejectionMessage" TEXT,
    "decidedAt" TIMESTAMPTZ(3),
    "shopifyState" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CaptureSession_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "VoidSession" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "paymentSessionId" UUID NOT NULL,
    "shopifyId" TEXT NOT NULL,
    "gid" TEXT NOT NULL,
    "test" BOOLEAN NOT NULL,
    "merchantLocale" TEXT,
    "proposedAt" TIMESTAMPTZ(3),
    "rawRequest" JSONB NOT NULL,
    "requestFingerprint" TEXT NOT NULL,
    "apiVersion" TEXT NOT NULL,
    "shopifyRequestId" TEXT,
    "status" "VoidStatus" NOT NULL DEFAULT 'RECEIVED',
    "rejectionCode" TEXT,
    "rejectionMessage" TEXT,
    "decidedAt" TIMESTAMPTZ(3),
    "shopifyState" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "VoidSession_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "RefundSession_paymentSessionId_idx" ON "RefundSession"("paymentSessionId");

-- CreateIndex
CREATE INDEX "RefundSession_status_nextPollAt_idx" ON "RefundSession"("status", "nextPollAt");

-- CreateIndex
CREATE UNIQUE INDEX "RefundSession_shopId_shopifyId_key" ON "RefundSession"("shopId", "shopifyId");

-- CreateIndex
CREATE INDEX "FlexRefund_refundSessionId_idx" ON "FlexRefund"("refundSessionId");

-- CreateIndex
CREATE UNIQUE INDEX "FlexRefund_shopId_flexRefundId_key" ON "FlexRefund"("shopId", "flexRefundId");

-- CreateIndex
CREATE INDEX "CaptureSession_paymentSessionId_idx" ON "CaptureSession"("paymentSessionId");

-- CreateIndex
CREATE UNIQUE INDEX "CaptureSession_shopId_shopifyId_key" ON "CaptureSession"("shopId", "shopifyId");

-- CreateIndex
CREATE INDEX "VoidSession_paymentSessionId_idx" ON "VoidSession"("paymentSessionId");

-- CreateIndex
CREATE UNIQUE INDEX "VoidSession_shopId_shopifyId_key" ON "VoidSession"("shopId", "shopifyId");

-- AddForeignKey
ALTER TABLE "RefundSession" ADD CONSTRAINT "RefundSession_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "RefundSession" ADD CONSTRAINT "RefundSession_paymentSessionId_fkey" FOREIGN KEY ("paymentSessionId") REFERENCES "PaymentSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "FlexRefund" ADD CONSTRAINT "FlexRefund_refundSessionId_fkey" FOREIGN KEY ("refundSessionId") REFERENCES "RefundSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CaptureSession" ADD CONSTRAINT "CaptureSession_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CaptureSession" ADD CONSTRAINT "CaptureSession_paymentSessionId_fkey" FOREIGN KEY ("paymentSessionId") REFERENCES "PaymentSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VoidSession" ADD CONSTRAINT "VoidSession_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "VoidSession" ADD CONSTRAINT "VoidSession_paymentSessionId_fkey" FOREIGN KEY ("paymentSessionId") REFERENCES "PaymentSession"("id") ON DELETE CASCADE ON UPDATE CASCADE;

