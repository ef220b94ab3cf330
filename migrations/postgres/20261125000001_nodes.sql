-- One row per start of a Bidline process (see server/src/db/nodes.rs).
CREATE TABLE nodes (
    id UUID PRIMARY KEY NOT NULL,
    hostname TEXT NOT NULL,
    version TEXT NOT NULL,
    http_addr TEXT NOT NULL,
    started_at TIMESTAMPTZ NOT NULL,
    stopped_at TIMESTAMPTZ
);

CREATE INDEX nodes_started_at ON nodes (started_at);
