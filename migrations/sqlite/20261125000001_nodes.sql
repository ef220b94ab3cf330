-- One row per start of a Bidline process (see server/src/db/nodes.rs).
-- Ids are UUIDv7 as 16-byte BLOBs; times are RFC 3339 UTC text.
CREATE TABLE nodes (
    id BLOB PRIMARY KEY NOT NULL,
    hostname TEXT NOT NULL,
    version TEXT NOT NULL,
    http_addr TEXT NOT NULL,
    started_at TEXT NOT NULL,
    stopped_at TEXT
);

CREATE INDEX nodes_started_at ON nodes (started_at);
