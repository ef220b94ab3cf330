-- Organizations, their users and roles, API keys, invitations and the security audit
-- log (see server/src/accounts). Ids are UUIDv7 BLOBs; times RFC 3339 UTC text.

CREATE TABLE organizations (
    id BLOB PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Emails are stored trimmed and lower-cased.
CREATE TABLE users (
    id BLOB PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE memberships (
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'analyst')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user_id ON memberships (user_id);

-- Only the SHA-256 of a key is kept; `key_prefix` is its first characters, for people.
CREATE TABLE api_keys (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'analyst')),
    key_prefix TEXT NOT NULL,
    key_hash BLOB NOT NULL,
    created_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);
CREATE INDEX api_keys_organization_id ON api_keys (organization_id);

-- An invite link carries a random token; only its SHA-256 is kept.
CREATE TABLE invitations (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'analyst')),
    token_hash BLOB NOT NULL,
    created_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    accepted_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    accepted_at TEXT,
    revoked_at TEXT
);
CREATE UNIQUE INDEX invitations_token_hash ON invitations (token_hash);
CREATE INDEX invitations_organization_id ON invitations (organization_id);

-- Append-only. `detail` is a JSON object.
CREATE TABLE audit_events (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    at TEXT NOT NULL,
    actor_user_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    actor_api_key_id BLOB REFERENCES api_keys (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL,
    ip TEXT
);
CREATE INDEX audit_events_organization_id_at ON audit_events (organization_id, at);
