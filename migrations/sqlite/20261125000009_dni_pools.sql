-- DNI pools: the numbers a campaign's website visitors are given in turn, each held
-- by one visitor for `lease_minutes` at a time.
CREATE TABLE dni_pools (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    campaign_id BLOB NOT NULL REFERENCES campaigns (id),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    lease_minutes INTEGER NOT NULL CHECK (lease_minutes BETWEEN 1 AND 1440),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX dni_pools_organization_id ON dni_pools (organization_id, id);
CREATE INDEX dni_pools_campaign_id ON dni_pools (campaign_id);

-- A number in a pool serves the pool's campaign (checked by the application).
ALTER TABLE numbers ADD COLUMN pool_id BLOB REFERENCES dni_pools (id);
CREATE INDEX numbers_pool_id ON numbers (pool_id);
