-- Dashboard sessions, in the shape tower-sessions-sqlx-store reads and writes:
-- `data` is the encoded record, `expiry_date` Unix seconds (the store's choice).
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    data BLOB NOT NULL,
    expiry_date INTEGER NOT NULL
);

CREATE INDEX sessions_expiry_date ON sessions (expiry_date);
