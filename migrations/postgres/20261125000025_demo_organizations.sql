-- Organizations `bidline demo` made: their calls are simulated, and `bidline demo remove`
-- deletes them with everything they hold.
ALTER TABLE organizations ADD COLUMN demo BOOLEAN NOT NULL DEFAULT FALSE;
