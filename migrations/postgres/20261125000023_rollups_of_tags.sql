-- The rollups gain a row per value of each DNI or publisher tag (`tag.NAME`) but those
-- that identify a visit or a click (`calls::rollups::is_rolled_up`), so that tag pivots
-- read rollups as well. They are rebuilt whole from the calls and their auctions, which
-- also counts calls written before rollups existed. `reports::tests` runs this again on
-- rollups the writer kept and finds the same sums, on both backends.
DELETE FROM call_rollups;

-- One unit per call (its own sums, under its buyer and target) and per buyer pinged for
-- it (the auction's sums, under that buyer and target); both count in the call's other
-- dimensions.
INSERT INTO call_rollups (organization_id, dimension, hour, key, calls, connected, converted, duplicates, rejected, no_answer, revenue_cents, payout_cents, talk_ms, pings, bids, bids_won, bid_cents)
WITH facts AS (
    SELECT c.id, c.organization_id AS org, date_trunc('hour', c.started_at, 'UTC') AS hour,
        COALESCE(c.campaign_id::text, '') AS campaign,
        COALESCE(c.publisher_id::text, '') AS publisher,
        COALESCE(c.number_id::text, '') AS number,
        COALESCE(c.tags ->> 'caller.state', '') AS state,
        c.tags,
        COALESCE(c.buyer_id::text, '') AS buyer,
        COALESCE(c.target_id::text, '') AS target,
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
        COALESCE(b.buyer_id::text, ''), COALESCE(b.target_id::text, ''),
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
    FROM units u, jsonb_each_text(u.tags) AS t
    WHERE substr(t.key, 1, 4) = 'tag.'
        AND t.key NOT IN ('tag.visitor_id', 'tag.gclid', 'tag.gbraid', 'tag.wbraid', 'tag.fbclid', 'tag.msclkid', 'tag.landing_page', 'tag.referrer', 'tag.page')
)
SELECT org, dimension, hour, key,
    CAST(SUM(calls) AS BIGINT),
    CAST(SUM(connected) AS BIGINT),
    CAST(SUM(converted) AS BIGINT),
    CAST(SUM(duplicates) AS BIGINT),
    CAST(SUM(rejected) AS BIGINT),
    CAST(SUM(no_answer) AS BIGINT),
    CAST(SUM(revenue_cents) AS BIGINT),
    CAST(SUM(payout_cents) AS BIGINT),
    CAST(SUM(talk_ms) AS BIGINT),
    CAST(SUM(pings) AS BIGINT),
    CAST(SUM(bids) AS BIGINT),
    CAST(SUM(bids_won) AS BIGINT),
    CAST(SUM(bid_cents) AS BIGINT)
FROM keyed
GROUP BY org, dimension, hour, key;
