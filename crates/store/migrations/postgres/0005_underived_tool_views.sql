-- Tools whose view no rules have derived (written before 0004, or marked for re-derivation
-- when the rules change): `migrate` finds them with a probe of this index, so a start-up
-- with nothing to derive costs nothing however many tools there are.
CREATE INDEX connection_tools_underived ON connection_tools (id) WHERE view_revision IS NULL;
