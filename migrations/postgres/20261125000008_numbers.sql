-- Tracking numbers: each belongs to one campaign (and perhaps one publisher). A number
-- is unique within its organization; a campaign or publisher with numbers cannot be
-- deleted.
CREATE TABLE numbers (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    campaign_id UUID NOT NULL REFERENCES campaigns (id),
    publisher_id UUID REFERENCES publishers (id),
    provider TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX numbers_organization_id_number ON numbers (organization_id, number);
CREATE INDEX numbers_campaign_id ON numbers (campaign_id);
CREATE INDEX numbers_publisher_id ON numbers (publisher_id);
