-- Buyers (who pay for calls), and the change history of a network's configuration.

CREATE TABLE buyers (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    contact_name TEXT,
    contact_email TEXT,
    contact_phone TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX buyers_organization_id ON buyers (organization_id, id);

-- One row per create, update or delete of a configuration object: who, when, and the
-- object's JSON before and after. Kept when the object is deleted.
CREATE TABLE config_changes (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    object_kind TEXT NOT NULL,
    object_id BLOB NOT NULL,
    at TEXT NOT NULL,
    actor_user_id BLOB REFERENCES users (id) ON DELETE SET NULL,
    actor_api_key_id BLOB REFERENCES api_keys (id) ON DELETE SET NULL,
    action TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
    before TEXT,
    after TEXT
);
CREATE INDEX config_changes_object ON config_changes (organization_id, object_kind, object_id, id);
