#!/usr/bin/env node
// The `--command` of the official conformance suite's client scenarios
// (`@modelcontextprotocol/conformance client`): it drives the real service as a user
// would, so the service is the MCP client under test. For the server URL the suite
// appends as the last argument it:
//   1. connects it with `auth_type: "oauth"` (the pre-registered client of the
//      scenario's context, if any, as `oauth_client_id` and `oauth_client_secret`);
//   2. plays the browser: GETs the `authorize_url` without following the redirect and
//      GETs the service's callback at the `Location` it names;
//   3. waits for the connection's first tool sync;
//   4. calls the scenario's tool, `test-tool`, through `test-mcp-call`.
// When the service asks for a new authorization (a server that wants more scopes, or
// moved to another authorization server), it re-authorizes (`POST …/reauthorize`) and
// plays the browser again, at most twice. It exits 0 once the tool answered, 1 with the
// reason on stderr otherwise (the suite allows that in its refusal scenarios).
//
// The service is reached at FEATHER_CONFORMANCE_SERVICE with the API key
// FEATHER_CONFORMANCE_KEY (both set by the test that runs the suite).

const serverUrl = process.argv[process.argv.length - 1];
const service = required("FEATHER_CONFORMANCE_SERVICE");
const key = required("FEATHER_CONFORMANCE_KEY");
const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? "";
const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? "{}");
/// Authorizations after the first the harness will go through for one scenario.
const MAX_REAUTHORIZATIONS = 2;

function required(name) {
  const value = process.env[name];
  if (!value) fail(`${name} is not set`);
  return value;
}

function fail(reason) {
  process.stderr.write(`conformance_client: ${reason}\n`);
  process.exit(1);
}

async function api(method, path, body) {
  const response = await fetch(`${service}${path}`, {
    method,
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the message.
  }
  return { status: response.status, json, text };
}

/// The browser: the authorization server redirects at once (its consent is implied), and
/// its redirect lands on the service's callback.
async function authorize(authorizeUrl) {
  const consent = await fetch(authorizeUrl, { redirect: "manual" });
  const location = consent.headers.get("location");
  if (!location) fail(`the authorize URL answered ${consent.status} without a redirect`);
  const callback = await fetch(location, { redirect: "manual" });
  const page = await callback.text();
  if (callback.status !== 200) {
    const reason = page.match(/<p>(.*?)<\/p>/s)?.[1] ?? page;
    fail(`the callback answered ${callback.status}: ${reason}`);
  }
}

async function connection(id) {
  const found = await api("GET", `/v1/integrations/connections/${id}`);
  if (found.status !== 200) fail(`reading the connection answered ${found.status}: ${found.text}`);
  return found.json;
}

async function untilSettled(id) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const current = await connection(id);
    if (current.status === "error") return current;
    if (current.status === "active" && ["synced", "failed"].includes(current.tools_status)) {
      return current;
    }
    if (Date.now() > deadline) fail(`the connection did not settle: ${JSON.stringify(current)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function reauthorize(id) {
  const again = await api("POST", `/v1/integrations/connections/${id}/reauthorize`, {});
  if (again.status !== 200) fail(`reauthorize answered ${again.status}: ${again.text}`);
  await authorize(again.json.authorize_url);
}

async function main() {
  const body = {
    nickname: `Conformance ${scenario || "client"}`,
    server_url: serverUrl,
    transport: "streamable_http",
    auth_type: "oauth",
  };
  if (context.client_id) body.oauth_client_id = context.client_id;
  if (context.client_secret) body.oauth_client_secret = context.client_secret;
  const created = await api("POST", "/v1/integrations/connections/custom-mcp", body);
  if (created.status !== 201) fail(`connect answered ${created.status}: ${created.text}`);
  const id = created.json.connection_id;
  await authorize(created.json.authorize_url);

  for (let attempt = 0; ; attempt++) {
    const settled = await untilSettled(id);
    if (settled.status === "active" && settled.tools_status === "synced") {
      const tool = settled.tools.find((candidate) => candidate.tool_path === "test-tool");
      if (!tool) fail(`no test-tool among ${settled.tools.map((t) => t.tool_path)}`);
      const called = await api("POST", `/v1/integrations/connections/${id}/test-mcp-call`, {
        slug: tool.slug,
        input: {},
      });
      if (called.status === 200 && !called.json.result?.isError) return;
      const reason = `calling test-tool answered ${called.status}: ${called.text}`;
      const again = await connection(id);
      if (again.status !== "error" || attempt >= MAX_REAUTHORIZATIONS) fail(reason);
    } else if (attempt >= MAX_REAUTHORIZATIONS) {
      fail(`the connection is ${settled.status}: ${settled.status_reason}`);
    }
    await reauthorize(id);
  }
}

main().catch((error) => fail(error?.stack ?? String(error)));
