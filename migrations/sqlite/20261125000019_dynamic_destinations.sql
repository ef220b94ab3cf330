-- Where a buyer's bid may send a target's call instead of its own destination: host
-- names, networks and number prefixes, as a JSON array of strings. Empty (as every
-- existing target starts) means a bid's destination is not taken.
ALTER TABLE targets ADD COLUMN dynamic_destinations TEXT NOT NULL DEFAULT '[]';
