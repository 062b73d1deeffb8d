"""An MCP server built with the official Python SDK (`mcp`, PyPI) that serves the tools of
the MCP conformance suite's reference "everything server" (`@modelcontextprotocol/
conformance` 0.1.16, server scenarios), as the upstream behind feather-integrations'
agent endpoint in the conformance interop test.

    python conformance_upstream.py --port PORT [--catalog everything|json-schema]
                                   [--tool-prefix PREFIX] [--event-store]

It always listens on 127.0.0.1 only, Streamable HTTP at /mcp (stateful sessions, SSE
responses: the SDK's defaults).

The suite calls its tools `test_*`. The gateway connects to this fixture as "Test" and
re-exposes every upstream tool as `test_<name>`, so the tools here carry the suite's names
*without* that prefix. `--tool-prefix PREFIX` (default empty) is prepended to every name:
with `--tool-prefix test_` the fixture can be run against the suite directly.

--catalog everything (the default):
    simple_text()                  text "This is a simple text response for testing."
    image_content()                an image block: a 1x1 red PNG, "image/png"
    audio_content()                an audio block: a minimal WAV, "audio/wav"
    embedded_resource()            a resource block: test://embedded-resource, "text/plain",
                                   "This is an embedded resource content."
    multiple_content_types()       text "Multiple content types test:", the PNG, and a
                                   resource block test://mixed-content-resource,
                                   "application/json", {"test":"data","value":123}
    tool_with_logging()            sends 3 `notifications/message` at level info ("Tool
                                   execution started", ~50 ms, "Tool processing data",
                                   ~50 ms, "Tool execution completed"), then text "Tool
                                   with logging executed successfully"
    error_handling()               isError: true, text "This tool intentionally returns an
                                   error for testing"
    tool_with_progress()           sends `notifications/progress` 0, 50, 100 of total 100
                                   (~50 ms apart) against the request's progressToken (none
                                   without one), then text naming the token
    sampling(prompt: str)          sends `sampling/createMessage` (the prompt as one user
                                   text message, maxTokens 100) to the client, then text
                                   "LLM response: <the sampled text>"
    elicitation(message: str)      sends `elicitation/create` (the message; a form with
                                   required strings username and email) to the client,
                                   then text "User response: action=<action>,
                                   content=<JSON>"
    elicitation_sep1034_defaults() `elicitation/create` whose form has a default for every
                                   primitive type (name "John Doe", age 30, score 95.5,
                                   status "active" of active|inactive|pending, verified
                                   true), then text "Elicitation completed: action=...,
                                   content=<JSON>"
    elicitation_sep1330_enums()    `elicitation/create` whose form has the five SEP-1330
                                   enum shapes (untitledSingle, titledSingle, legacyEnum,
                                   untitledMulti, titledMulti), then the same text
    reconnection()                 closes the request's SSE stream mid-call (only with
                                   `--event-store`; see below), waits ~100 ms, then text
                                   "Reconnection test completed successfully. ..."

    sampling and the elicitation tools answer isError: true when the client did not declare
    the capability, or when the request to the client fails (e.g. a 2026-07-28 request,
    on which the server may not send requests to the client).

    `logging/setLevel` is accepted (empty result) and filters later log messages of that
    session below the level set; the SDK's MCPServer does not serve it on its own.

--catalog json-schema:
    tool(name?: str, address?: {street?, city?})
                                   what the suite's `json_schema_2020_12_tool` is: the
                                   description "Tool with JSON Schema 2020-12 features" and
                                   an inputSchema with "$schema" (2020-12), "$defs"
                                   (address), a "$ref" to it and additionalProperties:
                                   false, listed as written; text "JSON Schema 2020-12
                                   tool called with: <arguments as JSON>". The gateway
                                   connects it as "JSON Schema 2020 12", so it becomes
                                   `json_schema_2020_12_tool`.

`--event-store` keeps every SSE event in memory and lets a client resume a stream with
`Last-Event-ID` (priming events with a 1 s `retry`), which `reconnection` needs to close
its stream (the suite's `server-sse-polling`). Off by default: without it the SSE streams
carry only JSON-RPC messages, and `reconnection` just answers. The SDK primes and closes
streams only for requests whose `MCP-Protocol-Version` is 2025-11-25 or later; the suite's
`server-sse-polling` sends its call as 2025-03-26, so even with `--event-store` that
scenario sees an unclosed stream (it warns, it does not fail).

Resources, prompts and completion (the rest of the reference server) are not implemented
(MCPServer still answers `resources/list` and `prompts/list` with empty lists).
`mcp` 2.x renamed `FastMCP` to `MCPServer`; this is that class.
"""

from __future__ import annotations

import argparse
import itertools
import json
import warnings
from typing import Annotated, Any

import anyio
from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.tools import Tool
from mcp.server.streamable_http import EventCallback, EventId, EventMessage, EventStore, StreamId
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types import (
    AudioContent,
    CallToolResult,
    EmbeddedResource,
    EmptyResult,
    ImageContent,
    JSONRPCError,
    JSONRPCMessage,
    JSONRPCResponse,
    LoggingLevel,
    SamplingMessage,
    SetLevelRequestParams,
    TextContent,
    TextResourceContents,
)
from pydantic import BaseModel, Field

HOST = "127.0.0.1"

# Logging, sampling and `logging/setLevel` are deprecated as of protocol 2026-07-28
# (SEP-2577) and the SDK warns on every use. The suite exercises exactly those 2025-era
# features, so the warnings say nothing here.
warnings.filterwarnings("ignore", category=MCPDeprecationWarning)

# The reference server's payloads: a 1x1 red PNG and a minimal (empty) WAV.
TEST_IMAGE_BASE64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
TEST_AUDIO_BASE64 = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA="

JSON_SCHEMA_2020_12_DESCRIPTION = "Tool with JSON Schema 2020-12 features"
JSON_SCHEMA_2020_12_INPUT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {
        "address": {
            "type": "object",
            "properties": {
                "street": {"type": "string"},
                "city": {"type": "string"},
            },
        }
    },
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
    },
    "additionalProperties": False,
}

ELICITATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "username": {"type": "string", "description": "User's response"},
        "email": {"type": "string", "description": "User's email address"},
    },
    "required": ["username", "email"],
}

SEP1034_DEFAULTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "User name", "default": "John Doe"},
        "age": {"type": "integer", "description": "User age", "default": 30},
        "score": {"type": "number", "description": "User score", "default": 95.5},
        "status": {
            "type": "string",
            "description": "User status",
            "enum": ["active", "inactive", "pending"],
            "default": "active",
        },
        "verified": {"type": "boolean", "description": "Verification status", "default": True},
    },
    "required": [],
}

SEP1330_ENUMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        # Untitled single-select: a plain enum.
        "untitledSingle": {
            "type": "string",
            "description": "Select one option",
            "enum": ["option1", "option2", "option3"],
        },
        # Titled single-select: oneOf const/title pairs, no enum.
        "titledSingle": {
            "type": "string",
            "description": "Select one option with titles",
            "oneOf": [
                {"const": "value1", "title": "First Option"},
                {"const": "value2", "title": "Second Option"},
                {"const": "value3", "title": "Third Option"},
            ],
        },
        # Legacy titled single-select (deprecated): enum plus enumNames of the same length.
        "legacyEnum": {
            "type": "string",
            "description": "Select one option (legacy)",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        # Untitled multi-select: an array of a plain string enum.
        "untitledMulti": {
            "type": "array",
            "description": "Select multiple options",
            "minItems": 1,
            "maxItems": 3,
            "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
        },
        # Titled multi-select: an array whose items are anyOf const/title pairs.
        "titledMulti": {
            "type": "array",
            "description": "Select multiple options with titles",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "anyOf": [
                    {"const": "value1", "title": "First Choice"},
                    {"const": "value2", "title": "Second Choice"},
                    {"const": "value3", "title": "Third Choice"},
                ]
            },
        },
    },
    "required": [],
}

# RFC 5424 severities, ascending: the order `logging/setLevel` filters by.
LOG_LEVELS: tuple[LoggingLevel, ...] = (
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
)
LOGGER_NAME = "conformance-upstream"
STEP_DELAY_S = 0.05


def text(value: str) -> TextContent:
    return TextContent(type="text", text=value)


def failure(message: str) -> CallToolResult:
    return CallToolResult(content=[text(message)], is_error=True)


def compact_json(value: Any) -> str:
    """JSON as JavaScript's JSON.stringify writes it (no spaces), like the reference server."""
    return json.dumps(value, separators=(",", ":"))


def session_key(request: Any) -> str | None:
    """The Streamable HTTP session a request belongs to (its `Mcp-Session-Id` header)."""
    headers = getattr(request, "headers", None)
    return headers.get("mcp-session-id") if headers is not None else None


class LogLevels:
    """The level each session set with `logging/setLevel`; until then, everything is sent.

    Kept here because MCPServer has no `logging/setLevel` handler (the method is gone at
    2026-07-28, and the SDK leaves filtering to the application on earlier versions).
    """

    def __init__(self) -> None:
        self._minimum: dict[str | None, LoggingLevel] = {}

    async def handle_set_level(self, ctx: ServerRequestContext[Any], params: SetLevelRequestParams) -> EmptyResult:
        self._minimum[session_key(ctx.request)] = params.level
        return EmptyResult()

    def allows(self, ctx: Context, level: LoggingLevel) -> bool:
        minimum = self._minimum.get(session_key(ctx.request_context.request), "debug")
        return LOG_LEVELS.index(level) >= LOG_LEVELS.index(minimum)

    async def log(self, ctx: Context, level: LoggingLevel, message: str) -> None:
        if not self.allows(ctx, level):
            return
        # Related to the tool call, so the message rides that call's SSE stream (as the
        # reference server's `sendNotification` does), not the standalone GET stream.
        await ctx.session.send_log_message(
            level=level,
            data=message,
            logger=LOGGER_NAME,
            related_request_id=ctx.request_context.request_id,
        )


class MemoryEventStore(EventStore):
    """Every SSE event, in memory, in order, so a stream can be resumed by `Last-Event-ID`.

    The SDK shares one store between all sessions and names a POST's stream by the
    JSON-RPC id of its request, which is unique within a session only. So a replay stops
    at the response to that id (a request's stream ends there), and two sessions using
    the same request id at the same time could still see each other's events: good
    enough for a fixture that the suite drives one session at a time.
    """

    def __init__(self) -> None:
        self._events: list[tuple[EventId, StreamId, JSONRPCMessage | None]] = []
        self._ids = itertools.count(1)

    async def store_event(self, stream_id: StreamId, message: JSONRPCMessage | None) -> EventId:
        event_id = f"{stream_id}:{next(self._ids)}"
        self._events.append((event_id, stream_id, message))
        return event_id

    async def replay_events_after(self, last_event_id: EventId, send_callback: EventCallback) -> StreamId | None:
        position = next((i for i, (event_id, _, _) in enumerate(self._events) if event_id == last_event_id), None)
        if position is None:
            return None
        stream_id = self._events[position][1]
        for event_id, event_stream, message in self._events[position + 1 :]:
            # Priming events (message None) are cursors, not messages to replay.
            if event_stream != stream_id or message is None:
                continue
            await send_callback(EventMessage(message, event_id))
            if isinstance(message, JSONRPCResponse | JSONRPCError) and str(message.id) == stream_id:
                break
        return stream_id


def add_everything_tools(server: MCPServer, prefix: str) -> None:
    levels = LogLevels()
    # Not a public MCPServer API: the low-level server is where a spec method that
    # MCPServer does not serve is added (mcp's extension docs point there for
    # `logging/setLevel`). Registering it also advertises the `logging` capability.
    server._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, levels.handle_set_level)

    @server.tool(name=f"{prefix}simple_text", description="Tests simple text content response")
    def simple_text() -> CallToolResult:
        return CallToolResult(content=[text("This is a simple text response for testing.")])

    @server.tool(name=f"{prefix}image_content", description="Tests image content response")
    def image_content() -> CallToolResult:
        return CallToolResult(content=[ImageContent(type="image", data=TEST_IMAGE_BASE64, mime_type="image/png")])

    @server.tool(name=f"{prefix}audio_content", description="Tests audio content response")
    def audio_content() -> CallToolResult:
        return CallToolResult(content=[AudioContent(type="audio", data=TEST_AUDIO_BASE64, mime_type="audio/wav")])

    @server.tool(name=f"{prefix}embedded_resource", description="Tests embedded resource content response")
    def embedded_resource() -> CallToolResult:
        resource = TextResourceContents(
            uri="test://embedded-resource",
            mime_type="text/plain",
            text="This is an embedded resource content.",
        )
        return CallToolResult(content=[EmbeddedResource(type="resource", resource=resource)])

    @server.tool(
        name=f"{prefix}multiple_content_types",
        description="Tests response with multiple content types (text, image, resource)",
    )
    def multiple_content_types() -> CallToolResult:
        resource = TextResourceContents(
            uri="test://mixed-content-resource",
            mime_type="application/json",
            text=compact_json({"test": "data", "value": 123}),
        )
        return CallToolResult(
            content=[
                text("Multiple content types test:"),
                ImageContent(type="image", data=TEST_IMAGE_BASE64, mime_type="image/png"),
                EmbeddedResource(type="resource", resource=resource),
            ]
        )

    @server.tool(
        name=f"{prefix}tool_with_logging",
        description="Tests tool that emits log messages during execution",
    )
    async def tool_with_logging(ctx: Context) -> CallToolResult:
        # The delays matter: the suite checks that several messages arrive during one call.
        await levels.log(ctx, "info", "Tool execution started")
        await anyio.sleep(STEP_DELAY_S)
        await levels.log(ctx, "info", "Tool processing data")
        await anyio.sleep(STEP_DELAY_S)
        await levels.log(ctx, "info", "Tool execution completed")
        return CallToolResult(content=[text("Tool with logging executed successfully")])

    @server.tool(name=f"{prefix}error_handling", description="Tests error response handling")
    def error_handling() -> CallToolResult:
        # Returned rather than raised: MCPServer would prefix a raised error's text
        # ("Error executing tool ...") or, for anything but ToolError, hide it.
        return failure("This tool intentionally returns an error for testing")

    @server.tool(
        name=f"{prefix}tool_with_progress",
        description="Tests tool that reports progress notifications",
    )
    async def tool_with_progress(ctx: Context) -> CallToolResult:
        # `report_progress` uses the request's `_meta.progressToken`, and is a no-op
        # when the request has none (the call then just runs with its delays).
        for step, progress in enumerate((0, 50, 100)):
            if step:
                await anyio.sleep(STEP_DELAY_S)
            await ctx.report_progress(progress, 100, f"Completed step {progress} of 100")
        meta = ctx.request_context.meta or {}
        token = meta.get("progress_token", meta.get("progressToken"))
        return CallToolResult(content=[text(f"Tool with progress executed successfully (progressToken: {token})")])

    @server.tool(
        name=f"{prefix}reconnection",
        description=(
            "Tests SSE stream disconnection and client reconnection (SEP-1699). Server will close "
            "the stream mid-call and send the result after client reconnects."
        ),
    )
    async def reconnection(ctx: Context) -> CallToolResult:
        # A no-op unless the server runs with an event store (`--event-store`) and the
        # session speaks 2025-11-25 or later: only then can the client resume the stream.
        await ctx.close_sse_stream()
        await anyio.sleep(0.1)
        return CallToolResult(
            content=[
                text(
                    "Reconnection test completed successfully. If you received this, the client "
                    "properly reconnected after stream closure."
                )
            ]
        )

    @server.tool(
        name=f"{prefix}sampling",
        description="Tests server-initiated sampling (LLM completion request)",
    )
    async def sampling(
        prompt: Annotated[str, Field(description="The prompt to send to the LLM")],
        ctx: Context,
    ) -> CallToolResult:
        capabilities = ctx.client_capabilities
        if capabilities is None or capabilities.sampling is None:
            return failure("Sampling not supported: the client did not declare the sampling capability")
        try:
            result = await ctx.session.create_message(
                messages=[SamplingMessage(role="user", content=text(prompt))],
                max_tokens=100,
                related_request_id=ctx.request_context.request_id,
            )
        except Exception as exc:  # the client's error, or no way to reach it
            return failure(f"Sampling failed: {exc}")
        blocks = result.content if isinstance(result.content, list) else [result.content]
        answer = next((block.text for block in blocks if isinstance(block, TextContent)), "No response")
        return CallToolResult(content=[text(f"LLM response: {answer}")])

    async def elicit(ctx: Context, message: str, schema: dict[str, Any], done: str) -> CallToolResult:
        """Send `elicitation/create` with `schema` as written and report the answer.

        The raw session call, not `ctx.elicit`: that one derives the form from a Pydantic
        model, which cannot express `enumNames`, titled `oneOf`/`anyOf` or these defaults.
        """
        capabilities = ctx.client_capabilities
        if capabilities is None or capabilities.elicitation is None:
            return failure("Elicitation not supported: the client did not declare the elicitation capability")
        try:
            result = await ctx.session.elicit_form(
                message=message,
                requested_schema=schema,
                related_request_id=ctx.request_context.request_id,
            )
        except Exception as exc:  # the client's error, or no way to reach it
            return failure(f"Elicitation failed: {exc}")
        return CallToolResult(
            content=[text(f"{done}: action={result.action}, content={compact_json(result.content or {})}")]
        )

    @server.tool(
        name=f"{prefix}elicitation",
        description="Tests server-initiated elicitation (user input request)",
    )
    async def elicitation(
        message: Annotated[str, Field(description="The message to show the user")],
        ctx: Context,
    ) -> CallToolResult:
        return await elicit(ctx, message, ELICITATION_SCHEMA, "User response")

    @server.tool(
        name=f"{prefix}elicitation_sep1034_defaults",
        description="Tests elicitation with default values per SEP-1034",
    )
    async def elicitation_sep1034_defaults(ctx: Context) -> CallToolResult:
        return await elicit(
            ctx,
            "Please review and update the form fields with defaults",
            SEP1034_DEFAULTS_SCHEMA,
            "Elicitation completed",
        )

    @server.tool(
        name=f"{prefix}elicitation_sep1330_enums",
        description="Tests elicitation with enum schema improvements per SEP-1330",
    )
    async def elicitation_sep1330_enums(ctx: Context) -> CallToolResult:
        return await elicit(
            ctx,
            "Please select options from the enum fields",
            SEP1330_ENUMS_SCHEMA,
            "Elicitation completed",
        )


class Address(BaseModel):
    street: str | None = None
    city: str | None = None


def json_schema_tool(prefix: str) -> Tool:
    """The suite's `json_schema_2020_12_tool`, with its inputSchema exactly as the suite
    writes it.

    MCPServer derives a tool's inputSchema from the function's signature (Pydantic's
    draft 2020-12 output, but with no `$schema`, its own `$defs` names and no
    `additionalProperties`), so the tool is built from the function, which still
    validates the arguments, and its published schema is then replaced.
    """

    def tool(name: str | None = None, address: Address | None = None) -> CallToolResult:
        arguments: dict[str, Any] = {}
        if name is not None:
            arguments["name"] = name
        if address is not None:
            arguments["address"] = address.model_dump(exclude_none=True)
        return CallToolResult(content=[text(f"JSON Schema 2020-12 tool called with: {compact_json(arguments)}")])

    built = Tool.from_function(tool, name=f"{prefix}tool", description=JSON_SCHEMA_2020_12_DESCRIPTION)
    return built.model_copy(update={"parameters": JSON_SCHEMA_2020_12_INPUT_SCHEMA})


def build(catalog: str, prefix: str) -> MCPServer:
    server = MCPServer(
        name="feather-interop-conformance",
        version=f"catalog-{catalog}",
        instructions="Test server serving the MCP conformance suite's tools.",
        tools=[json_schema_tool(prefix)] if catalog == "json-schema" else None,
        log_level="WARNING",
    )
    if catalog == "everything":
        add_everything_tools(server, prefix)
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--catalog", choices=["everything", "json-schema"], default="everything")
    parser.add_argument("--tool-prefix", default="", metavar="PREFIX", help="prepended to every tool name")
    parser.add_argument(
        "--event-store",
        action="store_true",
        help="keep SSE events in memory so streams can be resumed (needed by `reconnection`)",
    )
    args = parser.parse_args()
    server = build(args.catalog, args.tool_prefix)
    if args.event_store:
        server.run("streamable-http", host=HOST, port=args.port, event_store=MemoryEventStore(), retry_interval=1000)
    else:
        server.run("streamable-http", host=HOST, port=args.port)


if __name__ == "__main__":
    main()
