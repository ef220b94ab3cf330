-- Buyers (who pay for calls), and the change history of a network's configuration.

CREATE TABLE buyers (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    contact_name TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX buyers_organization_id ON buyers (organization_id, id);

-- One row per create, update or delete of a configuration object: who, when, and the
-- object's JSON before and after. Kept when the object is deleted.
CREATE TABLE config_changes (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    object_kind TEXT NOT NULL,
    object_id UUID NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    actor_user_id UUID REFERENCES users (id) ON DELETE SET NULL,
    actor_api_key_id UUID REFERENCES api_keys (id) ON DELETE SET NULL,
    action TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    before JSONB,
    after JSONB
);
CREATE INDEX config_changes_object ON config_changes (organization_id, object_kind, object_id, id);
