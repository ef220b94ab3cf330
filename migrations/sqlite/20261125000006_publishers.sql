-- Publishers: who bring calls, and what they are paid for them.
CREATE TABLE publishers (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    -- Fixed cents per converted call, or a share of revenue in basis points (1/100 %).
    payout_kind TEXT NOT NULL CHECK (payout_kind IN ('fixed', 'percent')),
    payout_cents INTEGER CHECK (payout_cents >= 0),
    payout_basis_points INTEGER CHECK (payout_basis_points BETWEEN 0 AND 10000),
    -- NULL: the campaign's buffer applies.
    conversion_buffer_seconds INTEGER CHECK (conversion_buffer_seconds BETWEEN 0 AND 86400),
    pay_duplicates INTEGER NOT NULL CHECK (pay_duplicates IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (
        (payout_kind = 'fixed' AND payout_cents IS NOT NULL AND payout_basis_points IS NULL)
        OR (payout_kind = 'percent' AND payout_basis_points IS NOT NULL AND payout_cents IS NULL)
    )
);
CREATE INDEX publishers_organization_id ON publishers (organization_id, id);
