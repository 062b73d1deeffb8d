-- Organizations, their API keys, connections and connection tools.
-- SQLite: uuids are 16-byte BLOBs, timestamps RFC 3339 TEXT in UTC (always microsecond
-- precision, so text order is time order), JSON documents TEXT.

CREATE TABLE organizations (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE api_keys (
    id               BLOB PRIMARY KEY NOT NULL,
    organization_id  BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    key_prefix       TEXT NOT NULL,
    -- hex SHA-256 of the whole key; the key itself is never stored
    key_hash         TEXT NOT NULL UNIQUE,
    scopes           TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    last_used_at     TEXT,
    expires_at       TEXT,
    revoked_at       TEXT
);
CREATE INDEX api_keys_by_organization ON api_keys (organization_id, created_at, id);

CREATE TABLE connections (
    id                    BLOB PRIMARY KEY NOT NULL,
    organization_id       BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    integration_key       TEXT NOT NULL,
    nickname              TEXT NOT NULL,
    nickname_slug         TEXT NOT NULL,
    vendor                TEXT NOT NULL,
    vendor_connection_id  TEXT,
    status                TEXT NOT NULL,
    status_reason         TEXT,
    tools_status          TEXT NOT NULL,
    tools_synced_at       TEXT,
    connected_at          TEXT,
    last_refreshed_at     TEXT,
    last_used_at          TEXT,
    metadata              TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL,
    UNIQUE (organization_id, nickname_slug)
);
-- The listing: an org's connections in (created_at, id) order, read straight off the index.
CREATE INDEX connections_by_organization ON connections (organization_id, created_at, id);

CREATE TABLE connection_tools (
    id                  BLOB PRIMARY KEY NOT NULL,
    connection_id       BLOB NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    organization_id     BLOB NOT NULL,
    tool_path           TEXT NOT NULL,
    slug                TEXT NOT NULL,
    -- sync-owned: overwritten by every sync
    display_name        TEXT NOT NULL,
    description         TEXT,
    input_schema        TEXT NOT NULL,
    response_schema     TEXT,
    -- operator-owned: never touched by a sync
    is_enabled          INTEGER NOT NULL,
    input_defaults      TEXT,
    response_field_map  TEXT,
    last_seen_at        TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (connection_id, tool_path),
    UNIQUE (connection_id, slug)
);
-- The listing: all of an org's tools grouped by connection, in tool_path order.
CREATE INDEX connection_tools_by_organization
    ON connection_tools (organization_id, connection_id, tool_path);
