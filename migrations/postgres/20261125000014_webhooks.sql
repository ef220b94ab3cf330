-- Webhooks and pixels: endpoints, the outbox, deliveries.

-- An organization's endpoints: where events about its calls are sent. A pixel is a GET
-- with the call in its URL (a publisher's conversion postback, typically).
CREATE TABLE webhooks (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    kind TEXT NOT NULL CHECK (kind IN ('webhook', 'pixel')),
    url TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('POST', 'GET', 'PUT')),
    -- JSON array of event names.
    events JSONB NOT NULL,
    -- Filters: NULL matches every campaign, publisher, buyer.
    campaign_id UUID,
    publisher_id UUID,
    buyer_id UUID,
    -- JSON array of {attribute, operator, value}, all of which must hold.
    conditions JSONB NOT NULL,
    -- JSON object of header name to (templated) value.
    headers JSONB NOT NULL,
    -- NULL: Bidline's own JSON body.
    body_template TEXT,
    max_concurrency BIGINT NOT NULL CHECK (max_concurrency BETWEEN 1 AND 64),
    -- Signing secrets, sealed with the server's key; the previous one still signs until
    -- previous_secret_until, so receivers can switch without losing a delivery.
    secret_sealed TEXT NOT NULL,
    previous_secret_sealed TEXT,
    previous_secret_until TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX webhooks_organization_id ON webhooks (organization_id, id);

-- The outbox: events written in the same transaction as the call change they report.
-- A dispatcher turns each into one delivery per matching endpoint, then marks it.
CREATE TABLE webhook_events (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    call_id UUID NOT NULL,
    -- The order of the call's events: deliveries of one call to one endpoint go in it.
    seq BIGINT NOT NULL,
    event TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    -- The call as it was at the event.
    payload JSONB NOT NULL,
    dispatched BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX webhook_events_call_id_seq ON webhook_events (call_id, seq);
CREATE INDEX webhook_events_undispatched ON webhook_events (id) WHERE NOT dispatched;

-- One event to one endpoint: the request as rendered once (retries send the same bytes,
-- signed anew), and its last attempt.
CREATE TABLE webhook_deliveries (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    webhook_id UUID NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id UUID NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    call_id UUID NOT NULL,
    seq BIGINT NOT NULL,
    event TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    -- JSON object of header name to value (rendered; signature headers are added per attempt).
    headers JSONB NOT NULL,
    body TEXT,
    attempts BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    first_attempt_at TIMESTAMPTZ,
    last_attempt_at TIMESTAMPTZ,
    next_attempt_at TIMESTAMPTZ,
    last_status_code BIGINT,
    last_error TEXT,
    last_latency_ms BIGINT,
    -- The start of the last answer, for people to read.
    last_response TEXT,
    -- A node sending it now holds it until then.
    locked_by UUID,
    locked_until TIMESTAMPTZ
);
CREATE UNIQUE INDEX webhook_deliveries_webhook_id_event_id ON webhook_deliveries (webhook_id, event_id);
CREATE INDEX webhook_deliveries_webhook_id ON webhook_deliveries (webhook_id, id);
-- Pruning deletes events, and their deliveries with them.
CREATE INDEX webhook_deliveries_event_id ON webhook_deliveries (event_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_call ON webhook_deliveries (webhook_id, call_id, seq) WHERE status = 'pending';
