-- Carrier trunks. Inbound: which source addresses may send calls (and optional digest
-- credentials they must answer). Outbound: where buyers' numbers are dialed and how.
-- The password is sealed (XChaCha20-Poly1305) with the server's secret key; the key
-- itself is never in the database.
CREATE TABLE trunks (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    allowed_cidrs TEXT NOT NULL,
    host TEXT,
    port INTEGER CHECK (port BETWEEN 1 AND 65535),
    transport TEXT CHECK (transport IN ('udp', 'tcp')),
    username TEXT,
    password_sealed TEXT,
    dial_format TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (
        (direction = 'outbound' AND host IS NOT NULL AND port IS NOT NULL
            AND transport IS NOT NULL AND dial_format IS NOT NULL)
        OR (direction = 'inbound' AND host IS NULL AND port IS NULL
            AND transport IS NULL AND dial_format IS NULL)
    ),
    CHECK (password_sealed IS NULL OR username IS NOT NULL)
);
CREATE INDEX trunks_organization_id ON trunks (organization_id, id);

-- Targets: a buyer's destinations. A phone number is dialed through an outbound trunk;
-- a SIP URI is sent to directly. Schedule, conditions and revenue are documents.
CREATE TABLE targets (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    buyer_id BLOB NOT NULL REFERENCES buyers (id),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    status TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    destination TEXT NOT NULL,
    outbound_trunk_id BLOB REFERENCES trunks (id),
    ring_timeout_seconds INTEGER NOT NULL CHECK (ring_timeout_seconds BETWEEN 1 AND 300),
    concurrency_cap INTEGER CHECK (concurrency_cap >= 0),
    -- The zone caps are counted in.
    time_zone TEXT NOT NULL,
    cap_hour INTEGER CHECK (cap_hour >= 0),
    cap_day INTEGER CHECK (cap_day >= 0),
    cap_month INTEGER CHECK (cap_month >= 0),
    cap_total INTEGER CHECK (cap_total >= 0),
    schedule TEXT,
    conditions TEXT NOT NULL,
    revenue TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK ((destination LIKE 'sip:%' OR destination LIKE 'sips:%') = (outbound_trunk_id IS NULL))
);
CREATE INDEX targets_organization_id ON targets (organization_id, id);
CREATE INDEX targets_buyer_id ON targets (buyer_id);
CREATE INDEX targets_outbound_trunk_id ON targets (outbound_trunk_id);

-- A campaign's ring tree: the targets its calls may go to. Part of the campaign (goes
-- with it); a target in any ring tree cannot be deleted.
CREATE TABLE ring_tree_entries (
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    campaign_id BLOB NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    target_id BLOB NOT NULL REFERENCES targets (id),
    position INTEGER NOT NULL,
    priority INTEGER NOT NULL CHECK (priority BETWEEN 0 AND 1000),
    weight INTEGER NOT NULL CHECK (weight BETWEEN 1 AND 1000),
    enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    PRIMARY KEY (campaign_id, target_id)
);
CREATE INDEX ring_tree_entries_target_id ON ring_tree_entries (target_id);

-- Proof that the server's secret key is the one the sealed secrets were made with: a
-- known text sealed at first start, opened at every start.
CREATE TABLE secret_key_check (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    sealed TEXT NOT NULL
);
