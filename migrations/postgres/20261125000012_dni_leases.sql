-- DNI: parameters a campaign captures besides the standard ones, every visit's lease
-- (one row, rewritten as it is renewed and ends), and each campaign's visits per hour.
ALTER TABLE campaigns ADD COLUMN dni_params JSONB NOT NULL DEFAULT '[]';

CREATE TABLE dni_leases (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    campaign_id UUID NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    -- Null when the visitor was shown the default number (no pool number was free).
    pool_id UUID,
    number_id UUID,
    number TEXT,
    visitor_id UUID NOT NULL,
    returning_visitor BOOLEAN NOT NULL,
    tags JSONB NOT NULL,
    -- Kept only when the operator asks (--dni-keep-ip).
    ip TEXT,
    leased_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    ended_at TIMESTAMPTZ
);
CREATE INDEX dni_leases_campaign ON dni_leases (organization_id, campaign_id, leased_at);
CREATE INDEX dni_leases_ended_at ON dni_leases (ended_at);

CREATE TABLE dni_hours (
    campaign_id UUID NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    hour TIMESTAMPTZ NOT NULL,
    peak_leased BIGINT NOT NULL,
    peak_visitors BIGINT NOT NULL,
    leases BIGINT NOT NULL,
    exhausted BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, hour)
);
CREATE INDEX dni_hours_organization ON dni_hours (organization_id, campaign_id, hour);
