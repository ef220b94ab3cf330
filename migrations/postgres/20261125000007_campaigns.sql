-- Campaigns: what calls are about, in which time zone, and the rules they follow.
CREATE TABLE campaigns (
    id UUID PRIMARY KEY NOT NULL,
    organization_id UUID NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    -- An IANA zone name, checked by the application.
    time_zone TEXT NOT NULL,
    -- E.164; the overflow number and the number DNI replaces on pages.
    default_number TEXT,
    duplicate_window_hours BIGINT NOT NULL CHECK (duplicate_window_hours BETWEEN 0 AND 8760),
    floor_cents BIGINT NOT NULL CHECK (floor_cents >= 0),
    repeat_caller_same_target BOOLEAN NOT NULL,
    -- A JSON array of host names.
    dni_allowed_domains JSONB NOT NULL,
    -- The key in the DNI snippet (`data-campaign`); public, unique, never changes.
    dni_public_key TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX campaigns_organization_id ON campaigns (organization_id, id);
CREATE UNIQUE INDEX campaigns_dni_public_key ON campaigns (dni_public_key);
