-- Calls and what happened in them. A call is recorded once routing knows whose it is (a
-- call to an unknown number or from an unknown trunk has no organization and is only
-- counted). Campaigns, publishers, buyers and targets are referred to without foreign
-- keys: the record of a call outlives the configuration it was routed by.

-- The zone an organization's dates are read in (call log filters, reports).
ALTER TABLE organizations ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';

-- How a campaign treats callers before routing.
ALTER TABLE campaigns ADD COLUMN reject_anonymous BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE campaigns ADD COLUMN reject_duplicates BOOLEAN NOT NULL DEFAULT FALSE;
-- Talk time a call needs to pay its publisher, unless the publisher sets its own.
ALTER TABLE campaigns ADD COLUMN conversion_buffer_seconds BIGINT NOT NULL DEFAULT 60
    CHECK (conversion_buffer_seconds BETWEEN 0 AND 86400);

-- Callers an organization refuses, on every campaign (while the entry is active).
CREATE TABLE blocked_callers (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- E.164.
    number TEXT NOT NULL,
    reason TEXT,
    status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX blocked_callers_organization_id_number ON blocked_callers (organization_id, number);

-- Nodes say they are alive; a node silent for long enough has crashed, and its live
-- calls and target claims are released by the others.
ALTER TABLE nodes ADD COLUMN heartbeat_at TIMESTAMPTZ;

CREATE TABLE calls (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- The node whose SIP edge holds the call.
    node_id UUID NOT NULL REFERENCES nodes (id),
    campaign_id UUID NOT NULL,
    publisher_id UUID,
    number_id UUID,
    inbound_trunk_id UUID,
    -- The buyer and target that answered; NULL until one does.
    buyer_id UUID,
    target_id UUID,
    -- E.164 when the caller gave a number; NULL when withheld.
    caller TEXT,
    caller_anonymous BOOLEAN NOT NULL,
    dialed TEXT NOT NULL,
    sip_call_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('ringing', 'connected', 'completed', 'failed', 'rejected', 'abandoned', 'interrupted')),
    -- Why it ended, in words, and the final SIP status the caller got (NULL after a 2xx).
    end_reason TEXT,
    sip_status BIGINT,
    started_at TIMESTAMPTZ NOT NULL,
    answered_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    -- Exact durations from the edge's monotonic clock.
    ring_ms BIGINT,
    talk_ms BIGINT,
    duplicate BOOLEAN NOT NULL,
    -- What the winner offered (bid or static revenue) and the talk time it asks for.
    bid_cents BIGINT,
    buffer_seconds BIGINT,
    converted BOOLEAN NOT NULL,
    revenue_cents BIGINT NOT NULL CHECK (revenue_cents >= 0),
    payout_cents BIGINT NOT NULL CHECK (payout_cents >= 0),
    -- Every attribute the call was routed by: caller.*, dialed, DNI and publisher tags.
    tags JSONB NOT NULL
);
-- The call log: an organization's calls, newest first (ids are UUIDv7), by time.
CREATE INDEX calls_organization_id_id ON calls (organization_id, id);
CREATE INDEX calls_organization_id_started_at ON calls (organization_id, started_at);
CREATE INDEX calls_campaign_id_started_at ON calls (campaign_id, started_at);
-- Duplicate detection at start: recent callers per campaign.
CREATE INDEX calls_caller ON calls (organization_id, caller, started_at);
-- Calls not ended: per node (those a crashed node left open), per organization (live).
CREATE INDEX calls_open_node_id ON calls (node_id) WHERE ended_at IS NULL;
CREATE INDEX calls_open_organization_id ON calls (organization_id) WHERE ended_at IS NULL;

-- The timeline of a call: every routing and SIP step.
CREATE TABLE call_events (
    call_id UUID NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    kind TEXT NOT NULL,
    detail JSONB NOT NULL,
    PRIMARY KEY (call_id, seq)
);

-- The auction of a call: one row per ring-tree target, eligible or not.
CREATE TABLE bids (
    call_id UUID NOT NULL REFERENCES calls (id) ON DELETE CASCADE,
    target_id UUID NOT NULL,
    buyer_id UUID NOT NULL,
    pinged_at TIMESTAMPTZ,
    latency_ms BIGINT,
    http_status BIGINT,
    bid_cents BIGINT,
    accepted BOOLEAN,
    -- ineligible | no_bid | failed | below_floor | ranked | no_answer | connected
    outcome TEXT NOT NULL CHECK (outcome IN
        ('ineligible', 'no_bid', 'failed', 'below_floor', 'ranked', 'no_answer', 'connected')),
    reason TEXT,
    won BOOLEAN NOT NULL,
    -- The buyer's own id for its bid, and what the bid said.
    bid_id TEXT,
    destination TEXT,
    min_duration_seconds BIGINT,
    -- The place in the ranked order, from 0; NULL when not ranked.
    rank BIGINT,
    -- The bid was reused from an identical ping for the same caller (ping shield).
    reused BOOLEAN NOT NULL,
    PRIMARY KEY (call_id, target_id)
);

-- Shared counters for caps and concurrency when nodes share a PostgreSQL database (one
-- node on SQLite counts in memory): a claim is a call ringing or connected to a target,
-- held by a node.
CREATE TABLE target_claims (
    call_id UUID NOT NULL,
    target_id UUID NOT NULL,
    node_id UUID NOT NULL REFERENCES nodes (id),
    -- Ringing (counts against caps until it connects or goes) or connected (counted).
    connected BOOLEAN NOT NULL,
    claimed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (call_id, target_id)
);
CREATE INDEX target_claims_target_id ON target_claims (target_id);
CREATE INDEX target_claims_node_id ON target_claims (node_id);

-- Calls a target took, per cap window (hour, day, month in the target's zone; total).
CREATE TABLE target_counts (
    target_id UUID NOT NULL,
    period TEXT NOT NULL CHECK (period IN ('hour', 'day', 'month', 'total')),
    -- The window's start as local time text (2026-12-02T14, 2026-12-02, 2026-12; 'all').
    bucket TEXT NOT NULL,
    calls BIGINT NOT NULL CHECK (calls >= 0),
    PRIMARY KEY (target_id, period, bucket)
);
