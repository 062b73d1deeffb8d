-- How a tool was invoked: `agent` (the MCP endpoint), `test_mcp_call` or `test_invoke`
-- (the dashboard's test endpoints), so analytics can tell agents' calls from tests. Every
-- invocation recorded before this came from `test-mcp-call`, the only caller there was.
ALTER TABLE tool_invocations ADD COLUMN mode TEXT NOT NULL DEFAULT 'test_mcp_call';
