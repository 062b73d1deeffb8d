-- The fields the API computes from a tool's documents (DESIGN.md §3 "Computed on every
-- read"), derived in the transaction of every write that changes those documents, so that
-- reading a tool never compiles a JSON Schema. `view_revision` names the rules that derived
-- them; a row with NULL or another revision is derived again when read (and by `migrate`).
ALTER TABLE connection_tools ADD COLUMN view_revision INTEGER;
ALTER TABLE connection_tools ADD COLUMN default_count INTEGER;
ALTER TABLE connection_tools ADD COLUMN pinned_count INTEGER;
ALTER TABLE connection_tools ADD COLUMN stale_input_fields TEXT;
ALTER TABLE connection_tools ADD COLUMN stale_field_paths TEXT;
-- NULL when nothing is injected: the preview is the input schema itself.
ALTER TABLE connection_tools ADD COLUMN merged_input_preview TEXT;
