"""An MCP server built with the official Python SDK (`mcp`, PyPI) whose tool catalog
drifts between two versions, for feather-integrations' interop tests.

    python drift_server.py --catalog v1|v2 --port PORT [--transport streamable-http|sse]
                           [--page-size N]

It always listens on 127.0.0.1 only. Streamable HTTP is served at /mcp, the legacy
HTTP+SSE transport at /sse (messages at /messages/).

v1:
    lookup_account(account_id: str, region: str, include_closed: bool)
    post_note(account_id: str, note: str, visibility: "internal" | "public")
    legacy_export(account_id: str)
v2 (the same server after an upstream release):
    lookup_account(account_id: str, region_code: str,
                   include_closed: "exclude" | "include" | "only")
                                        # region renamed, include_closed retyped
    post_note(...)                      # unchanged
    summarize_account(account_id: str, days: int = 30)   # added
                                        # legacy_export removed

Every tool answers with structured output that echoes the arguments it received, so a
caller can see exactly what was sent upstream (defaults and pins applied or not).

`--page-size N` pages `tools/list` N tools at a time (cursor = offset), so a client has
to follow `nextCursor` to see the whole catalog. `mcp` 2.x renamed `FastMCP` to
`MCPServer`; this is that class.
"""

from __future__ import annotations

import argparse
from typing import Literal

from mcp.server.mcpserver import MCPServer
from mcp_types import ListToolsResult, PaginatedRequestParams
from pydantic import BaseModel

HOST = "127.0.0.1"


class Account(BaseModel):
    """What lookup_account answers: the arguments it was called with."""

    account_id: str
    region: str
    include_closed: str
    catalog: str


class NoteReceipt(BaseModel):
    """What post_note answers: the note exactly as received."""

    account_id: str
    note: str
    visibility: str
    catalog: str


class Export(BaseModel):
    account_id: str
    rows: int


class Summary(BaseModel):
    account_id: str
    days: int
    summary: str


class PagedServer(MCPServer):
    """MCPServer whose `tools/list` is paged `page_size` tools at a time (0: one page)."""

    def __init__(self, *args, page_size: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self._page_size = page_size

    async def _handle_list_tools(self, ctx, params: PaginatedRequestParams | None) -> ListToolsResult:
        tools = await self.list_tools()
        if self._page_size <= 0:
            return ListToolsResult(tools=tools)
        start = int(params.cursor) if params is not None and params.cursor else 0
        end = start + self._page_size
        return ListToolsResult(tools=tools[start:end], next_cursor=str(end) if end < len(tools) else None)


def build(catalog: str, page_size: int) -> MCPServer:
    server = PagedServer(
        name="feather-interop-drift",
        version=f"catalog-{catalog}",
        instructions="Test server whose catalog drifts between v1 and v2.",
        page_size=page_size,
        log_level="WARNING",
    )

    @server.tool(description="Post a note on an account.")
    def post_note(account_id: str, note: str, visibility: Literal["internal", "public"]) -> NoteReceipt:
        return NoteReceipt(account_id=account_id, note=note, visibility=visibility, catalog=catalog)

    if catalog == "v1":

        @server.tool(description="Look an account up.")
        def lookup_account(account_id: str, region: str, include_closed: bool) -> Account:
            return Account(
                account_id=account_id,
                region=region,
                include_closed=str(include_closed).lower(),
                catalog=catalog,
            )

        @server.tool(description="Export an account (removed in v2).")
        def legacy_export(account_id: str) -> Export:
            return Export(account_id=account_id, rows=42)

    else:

        @server.tool(description="Look an account up.")
        def lookup_account(
            account_id: str,
            region_code: str,
            include_closed: Literal["exclude", "include", "only"],
        ) -> Account:
            return Account(
                account_id=account_id,
                region=region_code,
                include_closed=include_closed,
                catalog=catalog,
            )

        @server.tool(title="Summarize Account", description="Summarize an account's recent activity.")
        def summarize_account(account_id: str, days: int = 30) -> Summary:
            return Summary(account_id=account_id, days=days, summary=f"{account_id}: quiet for {days} days")

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalog", choices=["v1", "v2"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--transport", choices=["streamable-http", "sse"], default="streamable-http")
    parser.add_argument("--page-size", type=int, default=0)
    args = parser.parse_args()
    server = build(args.catalog, args.page_size)
    server.run(args.transport, host=HOST, port=args.port)


if __name__ == "__main__":
    main()
