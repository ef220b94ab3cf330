-- DNI: parameters a campaign captures besides the standard ones, every visit's lease
-- (one row, rewritten as it is renewed and ends), and each campaign's visits per hour.
ALTER TABLE campaigns ADD COLUMN dni_params TEXT NOT NULL DEFAULT '[]';

CREATE TABLE dni_leases (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    campaign_id BLOB NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    -- Null when the visitor was shown the default number (no pool number was free).
    pool_id BLOB,
    number_id BLOB,
    number TEXT,
    visitor_id BLOB NOT NULL,
    returning_visitor INTEGER NOT NULL CHECK (returning_visitor IN (0, 1)),
    tags TEXT NOT NULL,
    -- Kept only when the operator asks (--dni-keep-ip).
    ip TEXT,
    leased_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at TEXT
);
CREATE INDEX dni_leases_campaign ON dni_leases (organization_id, campaign_id, leased_at);
CREATE INDEX dni_leases_ended_at ON dni_leases (ended_at);

CREATE TABLE dni_hours (
    campaign_id BLOB NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    hour TEXT NOT NULL,
    peak_leased INTEGER NOT NULL,
    peak_visitors INTEGER NOT NULL,
    leases INTEGER NOT NULL,
    exhausted INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, hour)
);
CREATE INDEX dni_hours_organization ON dni_hours (organization_id, campaign_id, hour);
