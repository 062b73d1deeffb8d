-- A tool's slug is unique within its organization: agents address tools by slug alone.
-- `Store::migrate` settles the collisions older rows hold before this runs (the later
-- created tool takes the first free suffix). The index also serves the lookup of a tool by
-- its slug across the organization.
CREATE UNIQUE INDEX connection_tools_slug_in_organization
    ON connection_tools (organization_id, slug);
