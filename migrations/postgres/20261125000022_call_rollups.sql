-- What reports read instead of raw calls: per organization, dimension, UTC hour (of the
-- call's start) and key, the sums of the calls. Whoever changes a call (the call-record
-- writer, a postback) moves these in the same transaction by the difference between what
-- the call added up to before and after (see `calls::rollups`).
CREATE TABLE call_rollups (
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- all | campaign | publisher | buyer | target | number | caller_state
    dimension TEXT NOT NULL,
    hour TIMESTAMPTZ NOT NULL,
    -- The id or the state; '' for `all` and for calls without one (no buyer yet).
    key TEXT NOT NULL,
    calls BIGINT NOT NULL,
    connected BIGINT NOT NULL,
    converted BIGINT NOT NULL,
    duplicates BIGINT NOT NULL,
    rejected BIGINT NOT NULL,
    no_answer BIGINT NOT NULL,
    revenue_cents BIGINT NOT NULL,
    payout_cents BIGINT NOT NULL,
    talk_ms BIGINT NOT NULL,
    pings BIGINT NOT NULL,
    bids BIGINT NOT NULL,
    bids_won BIGINT NOT NULL,
    bid_cents BIGINT NOT NULL,
    PRIMARY KEY (organization_id, dimension, hour, key)
);

-- Reports the rollups cannot answer (two dimensions, tags, status filters) read calls by
-- campaign and time.
CREATE INDEX calls_organization_id_campaign_id_started_at ON calls (organization_id, campaign_id, started_at);
