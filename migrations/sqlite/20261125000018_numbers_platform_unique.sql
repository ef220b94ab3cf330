-- A phone number reaches one place on the public network, so it belongs to at most one
-- organization on the whole platform: otherwise whoever adds it with a catch-all trunk
-- takes another's calls. Where two organizations hold one today, the oldest row keeps
-- it (then the lower id); the others are released and kept here, so the server can
-- report them (log and the organization's audit log) at its next start.
CREATE TABLE released_numbers (
    id BLOB PRIMARY KEY NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    campaign_id BLOB NOT NULL,
    released_at TEXT NOT NULL,
    reported_at TEXT
);

INSERT INTO released_numbers (id, organization_id, number, campaign_id, released_at)
SELECT n.id, n.organization_id, n.number, n.campaign_id, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
FROM numbers n
WHERE EXISTS (
    SELECT 1 FROM numbers o
    WHERE o.number = n.number
      AND (julianday(o.created_at) < julianday(n.created_at)
           OR (julianday(o.created_at) = julianday(n.created_at) AND o.id < n.id))
);

DELETE FROM numbers WHERE id IN (SELECT id FROM released_numbers);

DROP INDEX numbers_organization_id_number;
CREATE UNIQUE INDEX numbers_number ON numbers (number);
CREATE INDEX numbers_organization_id_number ON numbers (organization_id, number);
