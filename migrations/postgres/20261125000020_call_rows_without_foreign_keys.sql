-- A call's timeline and auction no longer check their call by foreign key: the writer
-- writes the call's row before them in the same transaction, nothing deletes calls,
-- and the check cost a lookup and a row lock on `calls` for every event and bid written
-- (a third of the writer's time at thousands of calls a second).
ALTER TABLE call_events DROP CONSTRAINT call_events_call_id_fkey;
ALTER TABLE bids DROP CONSTRAINT bids_call_id_fkey;
