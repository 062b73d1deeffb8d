"""An agent built with the official Python MCP SDK (`mcp`, PyPI), for feather-integrations'
interop tests: connects to the service's MCP endpoint with an API key, lists every tool
(following `nextCursor`), and calls one.

    python agent_client.py --url URL --key KEY --mode auto|legacy
                           [--call NAME --arguments JSON]

Prints one JSON object on stdout:
    {"protocol_version": "...", "tools": [{"name", "inputSchema", "outputSchema"}, ...],
     "call": <the CallToolResult as JSON, or null>}
`--mode auto` (the SDK's default) probes `server/discover` and settles on 2026-07-28 with a
server that speaks it; `--mode legacy` forces the initialize handshake.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from mcp.client.client import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def run(url: str, key: str, mode: str, call: str | None, arguments: dict[str, Any]) -> dict[str, Any]:
    http = create_mcp_http_client(headers={"Authorization": f"Bearer {key}"})
    async with http:
        # No client-side cache: every listing asks the server.
        async with Client(streamable_http_client(url, http_client=http), mode=mode, cache=None) as client:
            tools: list[dict[str, Any]] = []
            cursor: str | None = None
            while True:
                page = await client.list_tools(cursor=cursor)
                tools.extend(
                    tool.model_dump(by_alias=True, exclude_none=True, include={"name", "input_schema", "output_schema"})
                    for tool in page.tools
                )
                cursor = page.next_cursor
                if cursor is None:
                    break
            result = None
            if call is not None:
                called = await client.call_tool(call, arguments)
                result = called.model_dump(by_alias=True, exclude_none=True, mode="json")
            return {"protocol_version": client.protocol_version, "tools": tools, "call": result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--mode", choices=["auto", "legacy"], default="auto")
    parser.add_argument("--call")
    parser.add_argument("--arguments", default="{}", type=json.loads)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.url, args.key, args.mode, args.call, args.arguments))))


if __name__ == "__main__":
    main()
