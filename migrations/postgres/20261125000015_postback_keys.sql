-- Keys a buyer reports conversions with (`/postback/v1/{key}`); only a digest is kept.
CREATE TABLE postback_keys (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    buyer_id UUID NOT NULL REFERENCES buyers (id) ON DELETE CASCADE,
    -- SHA-256 of the key.
    key_digest BYTEA NOT NULL,
    -- The key's first characters, to tell keys apart.
    key_prefix TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX postback_keys_key_digest ON postback_keys (key_digest);
CREATE INDEX postback_keys_buyer_id ON postback_keys (organization_id, buyer_id, id);
