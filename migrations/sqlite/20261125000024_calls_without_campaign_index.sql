-- Every query of calls by campaign names the organization first, which
-- calls_organization_id_campaign_id_started_at serves: this index only cost each call's
-- insert.
DROP INDEX calls_campaign_id_started_at;
