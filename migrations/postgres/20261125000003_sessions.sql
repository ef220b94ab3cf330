-- Dashboard sessions, in the shape tower-sessions-sqlx-store reads and writes:
-- `data` is the encoded record.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    data BYTEA NOT NULL,
    expiry_date TIMESTAMPTZ NOT NULL
);

CREATE INDEX sessions_expiry_date ON sessions (expiry_date);
