-- The revision of the rules (feather_domain::tool_view::DERIVATION_REVISION) that every
-- stored tool view has been brought up to. `migrate` compares it with the running binary's:
-- when the rules moved on, it marks the views of older revisions underived once and
-- records the new revision, so a change of the rules needs no migration of its own.
CREATE TABLE tool_view_rules (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    revision INTEGER NOT NULL
);
-- Revision 1 is the only one there has been: every view is derived by it or by none.
INSERT INTO tool_view_rules (id, revision) VALUES (1, 1);
