-- A call's timeline and auction no longer check their call by foreign key: the writer
-- writes the call's row before them in the same transaction, nothing deletes calls,
-- and the check cost a lookup on `calls` for every event and bid written. SQLite drops
-- a foreign key by rebuilding the table.
CREATE TABLE call_events_rebuilt (
    call_id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (call_id, seq)
);
INSERT INTO call_events_rebuilt (call_id, seq, at, kind, detail)
    SELECT call_id, seq, at, kind, detail FROM call_events;
DROP TABLE call_events;
ALTER TABLE call_events_rebuilt RENAME TO call_events;

CREATE TABLE bids_rebuilt (
    call_id BLOB NOT NULL,
    target_id BLOB NOT NULL,
    buyer_id BLOB NOT NULL,
    pinged_at TEXT,
    latency_ms INTEGER,
    http_status INTEGER,
    bid_cents INTEGER,
    accepted INTEGER CHECK (accepted IN (0, 1)),
    -- ineligible | no_bid | failed | below_floor | ranked | no_answer | connected
    outcome TEXT NOT NULL CHECK (outcome IN
        ('ineligible', 'no_bid', 'failed', 'below_floor', 'ranked', 'no_answer', 'connected')),
    reason TEXT,
    won INTEGER NOT NULL CHECK (won IN (0, 1)),
    -- The buyer's own id for its bid, and what the bid said.
    bid_id TEXT,
    destination TEXT,
    min_duration_seconds INTEGER,
    -- The place in the ranked order, from 0; NULL when not ranked.
    rank INTEGER,
    -- The bid was reused from an identical ping for the same caller (ping shield).
    reused INTEGER NOT NULL CHECK (reused IN (0, 1)),
    PRIMARY KEY (call_id, target_id)
);
INSERT INTO bids_rebuilt SELECT call_id, target_id, buyer_id, pinged_at, latency_ms, http_status,
    bid_cents, accepted, outcome, reason, won, bid_id, destination, min_duration_seconds, rank, reused
    FROM bids;
DROP TABLE bids;
ALTER TABLE bids_rebuilt RENAME TO bids;
