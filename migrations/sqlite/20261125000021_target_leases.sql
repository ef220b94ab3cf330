-- Caps shared by the nodes of one database are leased, not claimed per call: each node
-- holds a share of a capped target's calls (for the windows the share was granted in)
-- and of its places for live calls, and routes from it without asking the database
-- (see calls::leases). Per-call claims are gone.
DROP TABLE target_claims;

CREATE TABLE target_leases (
    target_id BLOB NOT NULL,
    node_id BLOB NOT NULL REFERENCES nodes (id),
    -- The windows the calls were granted in, as target_counts names them.
    hour_bucket TEXT NOT NULL,
    day_bucket TEXT NOT NULL,
    month_bucket TEXT NOT NULL,
    -- Calls granted and not yet taken (a taken call moves from here to target_counts in
    -- one transaction).
    calls INTEGER NOT NULL,
    -- Places for live calls granted.
    slots INTEGER NOT NULL,
    renewed_at TEXT NOT NULL,
    PRIMARY KEY (target_id, node_id)
);
CREATE INDEX target_leases_node_id ON target_leases (node_id);
