-- Billing organizations for what they use: the usage ledger, Stripe's side of each
-- organization, and the Stripe events already handled.

-- Append-only: one row per thing used, written with what it records (a call's minutes
-- and pings with the call's final row; number-days by the daily count). Reporting to
-- Stripe only fills in the reporting columns.
CREATE TABLE usage_records (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id),
    meter TEXT NOT NULL CHECK (meter IN ('call_minutes', 'rtb_pings', 'number_days')),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    -- What was used: the call's id, or "<number id>/<day>"; one record per meter and source.
    source TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    -- Stripe accepted it (a meter event with this row's id as its identifier).
    sent_at TIMESTAMPTZ,
    -- Stripe refused it for good (the reason in last_error); never sent again.
    refused_at TIMESTAMPTZ,
    -- When it was first sent: Stripe recognises a repeat for 24 hours only.
    first_attempt_at TIMESTAMPTZ,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error TEXT,
    -- A node sending it now holds it until then.
    locked_by UUID,
    locked_until TIMESTAMPTZ
);
CREATE UNIQUE INDEX usage_records_meter_source ON usage_records (meter, source);
CREATE INDEX usage_records_period ON usage_records (organization_id, occurred_at);
CREATE INDEX usage_records_unsent ON usage_records (next_attempt_at)
    WHERE sent_at IS NULL AND refused_at IS NULL;

-- Each organization's customer and subscription at Stripe, as Stripe's events told them.
CREATE TABLE billing_accounts (
    organization_id UUID PRIMARY KEY NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    stripe_customer_id TEXT,
    subscription_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('none', 'active', 'past_due', 'canceled')),
    -- Stripe's own word for the subscription (trialing, unpaid, incomplete, …).
    stripe_status TEXT,
    past_due_since TIMESTAMPTZ,
    period_start TIMESTAMPTZ,
    period_end TIMESTAMPTZ,
    -- When the Stripe event behind the status was created: older events change nothing.
    status_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX billing_accounts_stripe_customer_id ON billing_accounts (stripe_customer_id);

-- Stripe events handled, so a redelivered event is handled once.
CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY NOT NULL,
    type TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL
);
