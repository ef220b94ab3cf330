-- The rollups gain a row per value of each DNI or publisher tag (`tag.NAME`) but those
-- that identify a visit or a click (`calls::rollups::is_rolled_up`), so that tag pivots
-- read rollups as well. They are rebuilt whole from the calls and their auctions, which
-- also counts calls written before rollups existed. `reports::tests` runs this again on
-- rollups the writer kept and finds the same sums, on both backends. On SQLite the table
-- becomes WITHOUT ROWID: a report's range of hours is then one run of the key's b-tree
-- rather than a lookup of each row it finds in the index.
DROP TABLE call_rollups;
CREATE TABLE call_rollups (
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- all | campaign | publisher | buyer | target | number | caller_state | tag.NAME
    dimension TEXT NOT NULL,
    hour TEXT NOT NULL,
    -- The id, the state or the tag's value; '' for `all` and for calls without one.
    key TEXT NOT NULL,
    calls INTEGER NOT NULL,
    connected INTEGER NOT NULL,
    converted INTEGER NOT NULL,
    duplicates INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    no_answer INTEGER NOT NULL,
    revenue_cents INTEGER NOT NULL,
    payout_cents INTEGER NOT NULL,
    talk_ms INTEGER NOT NULL,
    pings INTEGER NOT NULL,
    bids INTEGER NOT NULL,
    bids_won INTEGER NOT NULL,
    bid_cents INTEGER NOT NULL,
    PRIMARY KEY (organization_id, dimension, hour, key)
) WITHOUT ROWID;

-- One unit per call (its own sums, under its buyer and target) and per buyer pinged for
-- it (the auction's sums, under that buyer and target); both count in the call's other
-- dimensions.
INSERT INTO call_rollups (organization_id, dimension, hour, key, calls, connected, converted, duplicates, rejected, no_answer, revenue_cents, payout_cents, talk_ms, pings, bids, bids_won, bid_cents)
WITH facts AS (
    SELECT c.id, c.organization_id AS org, substr(c.started_at, 1, 13) || ':00:00+00:00' AS hour,
        CASE WHEN c.campaign_id IS NULL THEN '' ELSE lower(substr(hex(c.campaign_id), 1, 8) || '-' || substr(hex(c.campaign_id), 9, 4) || '-' || substr(hex(c.campaign_id), 13, 4) || '-' || substr(hex(c.campaign_id), 17, 4) || '-' || substr(hex(c.campaign_id), 21, 12)) END AS campaign,
        CASE WHEN c.publisher_id IS NULL THEN '' ELSE lower(substr(hex(c.publisher_id), 1, 8) || '-' || substr(hex(c.publisher_id), 9, 4) || '-' || substr(hex(c.publisher_id), 13, 4) || '-' || substr(hex(c.publisher_id), 17, 4) || '-' || substr(hex(c.publisher_id), 21, 12)) END AS publisher,
        CASE WHEN c.number_id IS NULL THEN '' ELSE lower(substr(hex(c.number_id), 1, 8) || '-' || substr(hex(c.number_id), 9, 4) || '-' || substr(hex(c.number_id), 13, 4) || '-' || substr(hex(c.number_id), 17, 4) || '-' || substr(hex(c.number_id), 21, 12)) END AS number,
        COALESCE(json_extract(c.tags, '$."caller.state"'), '') AS state,
        c.tags,
        CASE WHEN c.buyer_id IS NULL THEN '' ELSE lower(substr(hex(c.buyer_id), 1, 8) || '-' || substr(hex(c.buyer_id), 9, 4) || '-' || substr(hex(c.buyer_id), 13, 4) || '-' || substr(hex(c.buyer_id), 17, 4) || '-' || substr(hex(c.buyer_id), 21, 12)) END AS buyer,
        CASE WHEN c.target_id IS NULL THEN '' ELSE lower(substr(hex(c.target_id), 1, 8) || '-' || substr(hex(c.target_id), 9, 4) || '-' || substr(hex(c.target_id), 13, 4) || '-' || substr(hex(c.target_id), 17, 4) || '-' || substr(hex(c.target_id), 21, 12)) END AS target,
        CASE WHEN c.answered_at IS NOT NULL THEN 1 ELSE 0 END AS connected,
        CASE WHEN c.converted THEN 1 ELSE 0 END AS converted,
        CASE WHEN c.duplicate THEN 1 ELSE 0 END AS duplicates,
        CASE WHEN c.status = 'rejected' THEN 1 ELSE 0 END AS rejected,
        CASE WHEN c.status IN ('failed', 'abandoned') THEN 1 ELSE 0 END AS no_answer,
        c.revenue_cents, c.payout_cents, COALESCE(c.talk_ms, 0) AS talk_ms
    FROM calls c
),
units AS (
    SELECT org, hour, campaign, publisher, number, state, tags, buyer, target,
        1 AS calls, connected, converted, duplicates, rejected, no_answer, revenue_cents,
        payout_cents, talk_ms, 0 AS pings, 0 AS bids, 0 AS bids_won, 0 AS bid_cents
    FROM facts
    UNION ALL
    SELECT f.org, f.hour, f.campaign, f.publisher, f.number, f.state, f.tags,
        CASE WHEN b.buyer_id IS NULL THEN '' ELSE lower(substr(hex(b.buyer_id), 1, 8) || '-' || substr(hex(b.buyer_id), 9, 4) || '-' || substr(hex(b.buyer_id), 13, 4) || '-' || substr(hex(b.buyer_id), 17, 4) || '-' || substr(hex(b.buyer_id), 21, 12)) END, CASE WHEN b.target_id IS NULL THEN '' ELSE lower(substr(hex(b.target_id), 1, 8) || '-' || substr(hex(b.target_id), 9, 4) || '-' || substr(hex(b.target_id), 13, 4) || '-' || substr(hex(b.target_id), 17, 4) || '-' || substr(hex(b.target_id), 21, 12)) END,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
        CASE WHEN b.bid_cents IS NOT NULL THEN 1 ELSE 0 END,
        CASE WHEN b.won AND b.bid_cents IS NOT NULL THEN 1 ELSE 0 END,
        COALESCE(b.bid_cents, 0)
    FROM bids b JOIN facts f ON f.id = b.call_id
    WHERE b.pinged_at IS NOT NULL
),
dimensions (dimension) AS (
    VALUES ('all'), ('campaign'), ('publisher'), ('buyer'), ('target'), ('number'), ('caller_state')
),
keyed AS (
    SELECT u.org, d.dimension, u.hour,
        CASE d.dimension
            WHEN 'all' THEN ''
            WHEN 'campaign' THEN u.campaign
            WHEN 'publisher' THEN u.publisher
            WHEN 'buyer' THEN u.buyer
            WHEN 'target' THEN u.target
            WHEN 'number' THEN u.number
            ELSE u.state
        END AS key,
        u.calls, u.connected, u.converted, u.duplicates, u.rejected, u.no_answer, u.revenue_cents, u.payout_cents, u.talk_ms, u.pings, u.bids, u.bids_won, u.bid_cents
    FROM units u CROSS JOIN dimensions d
    UNION ALL
    SELECT u.org, t.key, u.hour, t.value,
        u.calls, u.connected, u.converted, u.duplicates, u.rejected, u.no_answer, u.revenue_cents, u.payout_cents, u.talk_ms, u.pings, u.bids, u.bids_won, u.bid_cents
    FROM units u, json_each(u.tags) AS t
    WHERE substr(t.key, 1, 4) = 'tag.'
        AND t.key NOT IN ('tag.visitor_id', 'tag.gclid', 'tag.gbraid', 'tag.wbraid', 'tag.fbclid', 'tag.msclkid', 'tag.landing_page', 'tag.referrer', 'tag.page')
)
SELECT org, dimension, hour, key,
    SUM(calls),
    SUM(connected),
    SUM(converted),
    SUM(duplicates),
    SUM(rejected),
    SUM(no_answer),
    SUM(revenue_cents),
    SUM(payout_cents),
    SUM(talk_ms),
    SUM(pings),
    SUM(bids),
    SUM(bids_won),
    SUM(bid_cents)
FROM keyed
GROUP BY org, dimension, hour, key;
