-- Several nodes share their DNI leases through this table: each row says which node
-- wrote it last and when, and every node reads what the others wrote. (dni_hours now
-- takes each node's additions: leases and exhaustions are added, peaks kept at most.)
ALTER TABLE dni_leases ADD COLUMN node_id BLOB;
ALTER TABLE dni_leases ADD COLUMN changed_at TEXT;
CREATE INDEX dni_leases_changed_at ON dni_leases (changed_at);
