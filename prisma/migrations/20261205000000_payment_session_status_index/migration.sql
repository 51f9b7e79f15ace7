-- CreateIndex
CREATE INDEX "PaymentSession_status_createdAt_idx" ON "PaymentSession"("status", "createdAt");

