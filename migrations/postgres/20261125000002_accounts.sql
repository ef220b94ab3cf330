-- Organizations, their users and roles, API keys, invitations and the security audit
-- log (see server/src/accounts). Ids are UUIDv7; times TIMESTAMPTZ.

CREATE TABLE organizations (
    id UUID PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Emails are stored trimmed and lower-cased.
CREATE TABLE users (
    id UUID PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    password_changed_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (email);

CREATE TABLE memberships (
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'analyst')),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (organization_id, user_id)
);
CREATE INDEX memberships_user_id ON memberships (user_id);

-- Only the SHA-256 of a key is kept; `key_prefix` is its first characters, for people.
CREATE TABLE api_keys (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'analyst')),
    key_prefix TEXT NOT NULL,
    key_hash BYTEA NOT NULL,
    created_by UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX api_keys_key_hash ON api_keys (key_hash);
CREATE INDEX api_keys_organization_id ON api_keys (organization_id);

-- An invite link carries a random token; only its SHA-256 is kept.
CREATE TABLE invitations (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'manager', 'analyst')),
    token_hash BYTEA NOT NULL,
    created_by UUID REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    accepted_by UUID REFERENCES users (id) ON DELETE SET NULL,
    accepted_at TIMESTAMPTZ,
    revoked_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX invitations_token_hash ON invitations (token_hash);
CREATE INDEX invitations_organization_id ON invitations (organization_id);

-- Append-only. `detail` is a JSON object.
CREATE TABLE audit_events (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    at TIMESTAMPTZ NOT NULL,
    actor_user_id UUID REFERENCES users (id) ON DELETE SET NULL,
    actor_api_key_id UUID REFERENCES api_keys (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    detail JSONB NOT NULL,
    ip TEXT
);
CREATE INDEX audit_events_organization_id_at ON audit_events (organization_id, at);
