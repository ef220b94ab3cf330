-- The version of the routing configuration: bumped in the transaction of every change
-- (see network/history.rs), polled by every node to know when to rebuild its snapshot.
CREATE TABLE routing_config_version (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO routing_config_version (id, version) VALUES (1, 0);
