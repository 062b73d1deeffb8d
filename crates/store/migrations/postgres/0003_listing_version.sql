-- A counter every write to an organization's connections, tools or keys moves, so that
-- a cached listing can be checked for freshness with one primary-key read.
ALTER TABLE organizations ADD COLUMN listing_version bigint NOT NULL DEFAULT 0;
