-- Catalog sync (README "Catalog sync"): each Shopify variant mirrored in Flex per shop and mode, and the
-- full sync of each shop and mode (its run, cursor and progress).

-- CreateEnum
CREATE TYPE "CatalogSyncStatus" AS ENUM ('RUNNING', 'COMPLETE', 'FAILED');

-- CreateTable
CREATE TABLE "CatalogSync" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "mode" "FlexMode" NOT NULL,
    "run" INTEGER NOT NULL DEFAULT 0,
    "status" "CatalogSyncStatus" NOT NULL DEFAULT 'RUNNING',
    "cursor" TEXT,
    "page" INTEGER NOT NULL DEFAULT 0,
    "variantsSeen" INTEGER NOT NULL DEFAULT 0,
    "currency" TEXT,
    "startedAt" TIMESTAMPTZ(3) NOT NULL,
    "finishedAt" TIMESTAMPTZ(3),
    "lastProblem" TEXT,
    "lastProblemAt" TIMESTAMPTZ(3),
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CatalogSync_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "CatalogVariant" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "shopId" UUID NOT NULL,
    "mode" "FlexMode" NOT NULL,
    "shopifyProductId" TEXT NOT NULL,
    "shopifyVariantId" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "productTitle" TEXT NOT NULL,
    "variantTitle" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "productUrl" TEXT,
    "productType" TEXT,
    "sku" TEXT,
    "barcode" TEXT,
    "priceMinor" BIGINT NOT NULL,
    "currency" TEXT NOT NULL,
    "shopifyUpdatedAt" TIMESTAMPTZ(3) NOT NULL,
    "productRevision" INTEGER NOT NULL DEFAULT 0,
    "lastSeenRun" INTEGER NOT NULL DEFAULT 0,
    "deletedAt" TIMESTAMPTZ(3),
    "flexProductId" TEXT,
    "flexProductRevision" INTEGER,
    "flexProductActive" BOOLEAN NOT NULL DEFAULT false,
    "flexProductGeneration" INTEGER NOT NULL DEFAULT 0,
    "flexPriceId" TEXT,
    "flexPriceMinor" BIGINT,
    "flexPriceGeneration" INTEGER NOT NULL DEFAULT 0,
    "staleFlexPriceId" TEXT,
    "flexRejectedFor" TEXT,
    "lastError" TEXT,
    "pushStartedAt" TIMESTAMPTZ(3),
    "leaseToken" TEXT,
    "leaseUntil" TIMESTAMPTZ(3),
    "syncedAt" TIMESTAMPTZ(3),
    "eligibility" TEXT,
    "eligibilityReason" TEXT,
    "eligibilityAt" TIMESTAMPTZ(3),
    "variantMetafieldDigest" TEXT,
    "productMetafieldDigest" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "CatalogVariant_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "CatalogSync_shopId_mode_key" ON "CatalogSync"("shopId", "mode");

-- CreateIndex
CREATE INDEX "CatalogVariant_shopId_mode_shopifyProductId_idx" ON "CatalogVariant"("shopId", "mode", "shopifyProductId");

-- CreateIndex
CREATE INDEX "CatalogVariant_shopId_mode_flexProductId_idx" ON "CatalogVariant"("shopId", "mode", "flexProductId");

-- CreateIndex
CREATE UNIQUE INDEX "CatalogVariant_shopId_mode_shopifyVariantId_key" ON "CatalogVariant"("shopId", "mode", "shopifyVariantId");

-- AddForeignKey
ALTER TABLE "CatalogSync" ADD CONSTRAINT "CatalogSync_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "CatalogVariant" ADD CONSTRAINT "CatalogVariant_shopId_fkey" FOREIGN KEY ("shopId") REFERENCES "Shop"("id") ON DELETE CASCADE ON UPDATE CASCADE;

