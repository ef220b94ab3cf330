-- Webhooks and pixels: endpoints, the outbox, deliveries.

-- An organization's endpoints: where events about its calls are sent. A pixel is a GET
-- with the call in its URL (a publisher's conversion postback, typically).
CREATE TABLE webhooks (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    kind TEXT NOT NULL CHECK (kind IN ('webhook', 'pixel')),
    url TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('POST', 'GET', 'PUT')),
    -- JSON array of event names.
    events TEXT NOT NULL,
    -- Filters: NULL matches every campaign, publisher, buyer.
    campaign_id BLOB,
    publisher_id BLOB,
    buyer_id BLOB,
    -- JSON array of {attribute, operator, value}, all of which must hold.
    conditions TEXT NOT NULL,
    -- JSON object of header name to (templated) value.
    headers TEXT NOT NULL,
    -- NULL: Bidline's own JSON body.
    body_template TEXT,
    max_concurrency INTEGER NOT NULL CHECK (max_concurrency BETWEEN 1 AND 64),
    -- Signing secrets, sealed with the server's key; the previous one still signs until
    -- previous_secret_until, so receivers can switch without losing a delivery.
    secret_sealed TEXT NOT NULL,
    previous_secret_sealed TEXT,
    previous_secret_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX webhooks_organization_id ON webhooks (organization_id, id);

-- The outbox: events written in the same transaction as the call change they report.
-- A dispatcher turns each into one delivery per matching endpoint, then marks it.
CREATE TABLE webhook_events (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    call_id BLOB NOT NULL,
    -- The order of the call's events: deliveries of one call to one endpoint go in it.
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    at TEXT NOT NULL,
    -- The call as it was at the event.
    payload TEXT NOT NULL,
    dispatched INTEGER NOT NULL DEFAULT 0 CHECK (dispatched IN (0, 1))
);
CREATE UNIQUE INDEX webhook_events_call_id_seq ON webhook_events (call_id, seq);
CREATE INDEX webhook_events_undispatched ON webhook_events (id) WHERE NOT dispatched;

-- One event to one endpoint: the request as rendered once (retries send the same bytes,
-- signed anew), and its last attempt.
CREATE TABLE webhook_deliveries (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    webhook_id BLOB NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_id BLOB NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    call_id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    -- JSON object of header name to value (rendered; signature headers are added per attempt).
    headers TEXT NOT NULL,
    body TEXT,
    attempts INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    first_attempt_at TEXT,
    last_attempt_at TEXT,
    next_attempt_at TEXT,
    last_status_code INTEGER,
    last_error TEXT,
    last_latency_ms INTEGER,
    -- The start of the last answer, for people to read.
    last_response TEXT,
    -- A node sending it now holds it until then.
    locked_by BLOB,
    locked_until TEXT
);
CREATE UNIQUE INDEX webhook_deliveries_webhook_id_event_id ON webhook_deliveries (webhook_id, event_id);
CREATE INDEX webhook_deliveries_webhook_id ON webhook_deliveries (webhook_id, id);
-- Pruning deletes events, and their deliveries with them.
CREATE INDEX webhook_deliveries_event_id ON webhook_deliveries (event_id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_call ON webhook_deliveries (webhook_id, call_id, seq) WHERE status = 'pending';
