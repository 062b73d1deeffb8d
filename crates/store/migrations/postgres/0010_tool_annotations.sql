-- A tool's MCP annotations (readOnlyHint, destructiveHint, …) as its server lists them:
-- hints the agents' endpoint passes on. Rows synced before this have none until their
-- next sync.
ALTER TABLE connection_tools ADD COLUMN annotations json;
