-- Publishers: who bring calls, and what they are paid for them.
CREATE TABLE publishers (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    -- Fixed cents per converted call, or a share of revenue in basis points (1/100 %).
    payout_kind TEXT NOT NULL CHECK (payout_kind IN ('fixed', 'percent')),
    payout_cents BIGINT CHECK (payout_cents >= 0),
    payout_basis_points BIGINT CHECK (payout_basis_points BETWEEN 0 AND 10000),
    -- NULL: the campaign's buffer applies.
    conversion_buffer_seconds BIGINT CHECK (conversion_buffer_seconds BETWEEN 0 AND 86400),
    pay_duplicates BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CHECK (
        (payout_kind = 'fixed' AND payout_cents IS NOT NULL AND payout_basis_points IS NULL)
        OR (payout_kind = 'percent' AND payout_basis_points IS NOT NULL AND payout_cents IS NULL)
    )
);
CREATE INDEX publishers_organization_id ON publishers (organization_id, id);
