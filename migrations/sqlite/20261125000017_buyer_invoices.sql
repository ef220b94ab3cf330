-- A network invoices its buyers for converted calls, through its own Stripe account.

ALTER TABLE buyers ADD COLUMN invoicing_enabled INTEGER NOT NULL DEFAULT 0 CHECK (invoicing_enabled IN (0, 1));
ALTER TABLE buyers ADD COLUMN invoicing_cycle TEXT NOT NULL DEFAULT 'monthly'
    CHECK (invoicing_cycle IN ('weekly', 'monthly'));

-- The organization's own Stripe account: its secret key, sealed with the server's key.
CREATE TABLE org_stripe_accounts (
    organization_id BLOB PRIMARY KEY NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    secret_key_sealed TEXT NOT NULL,
    -- The key's start and end, to tell keys apart ("sk_live_…x4Qa").
    key_hint TEXT NOT NULL,
    connected_at TEXT NOT NULL
);

-- Each invoiced buyer's customer in the organization's Stripe account.
CREATE TABLE buyer_customers (
    buyer_id BLOB PRIMARY KEY NOT NULL REFERENCES buyers (id) ON DELETE CASCADE,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    stripe_customer_id TEXT NOT NULL
);

-- One invoice per buyer and cycle: made once, whoever runs the cycle and however often.
CREATE TABLE buyer_invoices (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    buyer_id BLOB NOT NULL REFERENCES buyers (id),
    cycle TEXT NOT NULL CHECK (cycle IN ('weekly', 'monthly')),
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    -- pending: its calls are held, Stripe not done yet; open: finalized at Stripe;
    -- empty: no converted calls in the cycle (nothing sent to Stripe).
    status TEXT NOT NULL CHECK (status IN ('pending', 'open', 'empty')),
    calls INTEGER NOT NULL,
    total_cents INTEGER NOT NULL,
    stripe_invoice_id TEXT,
    hosted_invoice_url TEXT,
    -- The buyer's statement page (/statements/{token}) lists the calls.
    statement_token TEXT NOT NULL,
    -- What the Stripe invoice says (fixed when the calls are held: a retry sends the same).
    description TEXT NOT NULL,
    last_error TEXT,
    created_at TEXT NOT NULL,
    finalized_at TEXT
);
CREATE UNIQUE INDEX buyer_invoices_buyer_period ON buyer_invoices (buyer_id, period_start, period_end);
CREATE UNIQUE INDEX buyer_invoices_statement_token ON buyer_invoices (statement_token);
CREATE INDEX buyer_invoices_organization_id ON buyer_invoices (organization_id, buyer_id, id);

-- The invoice's lines as fixed when its calls were held: one per campaign, each added to
-- the Stripe invoice once (its invoice item's id is kept once Stripe has it).
CREATE TABLE buyer_invoice_lines (
    invoice_id BLOB NOT NULL REFERENCES buyer_invoices (id),
    campaign_id BLOB NOT NULL,
    description TEXT NOT NULL,
    calls INTEGER NOT NULL,
    amount_cents INTEGER NOT NULL,
    stripe_item_id TEXT,
    PRIMARY KEY (invoice_id, campaign_id)
);

-- Each call invoiced, once ever (the primary key), with the revenue it was invoiced at.
CREATE TABLE buyer_invoice_calls (
    call_id BLOB PRIMARY KEY NOT NULL REFERENCES calls (id),
    invoice_id BLOB NOT NULL REFERENCES buyer_invoices (id),
    campaign_id BLOB NOT NULL,
    -- The campaign's name then: the statement outlives a deleted campaign.
    campaign_name TEXT NOT NULL,
    revenue_cents INTEGER NOT NULL
);
CREATE INDEX buyer_invoice_calls_invoice_id ON buyer_invoice_calls (invoice_id);
