-- Keys a buyer reports conversions with (`/postback/v1/{key}`); only a digest is kept.
CREATE TABLE postback_keys (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    buyer_id BLOB NOT NULL REFERENCES buyers (id) ON DELETE CASCADE,
    -- SHA-256 of the key.
    key_digest BLOB NOT NULL,
    -- The key's first characters, to tell keys apart.
    key_prefix TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE UNIQUE INDEX postback_keys_key_digest ON postback_keys (key_digest);
CREATE INDEX postback_keys_buyer_id ON postback_keys (organization_id, buyer_id, id);
