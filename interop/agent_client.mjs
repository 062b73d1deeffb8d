// An agent built with the official TypeScript MCP SDK (@modelcontextprotocol/sdk, npm),
// for feather-integrations' interop tests: connects to the service's MCP endpoint over
// Streamable HTTP with an API key, lists every tool (following nextCursor), and calls one.
//
//     node interop/agent_client.mjs URL KEY [TOOL ARGUMENTS_JSON]
//
// Prints one JSON object on stdout:
//     {"protocol_version": "...", "tools": [...], "call": <CallToolResult or null>}
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, key, toolName, toolArguments] = process.argv.slice(2);
if (!url || !key) {
  console.error("usage: node agent_client.mjs URL KEY [TOOL ARGUMENTS_JSON]");
  process.exit(2);
}

const transport = new StreamableHTTPClientTransport(new URL(url), {
  requestInit: { headers: { Authorization: `Bearer ${key}` } },
});
const client = new Client({ name: "feather-interop-agent", version: "1.0.0" });
await client.connect(transport);

const tools = [];
let cursor;
do {
  const page = await client.listTools(cursor === undefined ? undefined : { cursor });
  tools.push(...page.tools);
  cursor = page.nextCursor;
} while (cursor !== undefined);

let call = null;
if (toolName !== undefined) {
  call = await client.callTool({ name: toolName, arguments: JSON.parse(toolArguments ?? "{}") });
}
const protocolVersion = transport.protocolVersion;
await transport.terminateSession();
await client.close();
console.log(JSON.stringify({ protocol_version: protocolVersion, tools, call }));
