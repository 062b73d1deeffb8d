-- Organizations, their API keys, connections and connection tools.
-- PostgreSQL: native uuid, jsonb and timestamptz. Tool schemas and operator maps are `json`,
-- not `jsonb`: jsonb reorders object keys, and a schema's property order is part of what the
-- upstream server said (it orders the fields of a form, for one).

CREATE TABLE organizations (
    id          uuid PRIMARY KEY,
    name        text NOT NULL,
    created_at  timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name             text NOT NULL,
    key_prefix       text NOT NULL,
    -- hex SHA-256 of the whole key; the key itself is never stored
    key_hash         text NOT NULL UNIQUE,
    scopes           jsonb NOT NULL,
    created_at       timestamptz NOT NULL,
    last_used_at     timestamptz,
    expires_at       timestamptz,
    revoked_at       timestamptz
);
CREATE INDEX api_keys_by_organization ON api_keys (organization_id, created_at, id);

CREATE TABLE connections (
    id                    uuid PRIMARY KEY,
    organization_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    integration_key       text NOT NULL,
    nickname              text NOT NULL,
    nickname_slug         text NOT NULL,
    vendor                text NOT NULL,
    vendor_connection_id  text,
    status                text NOT NULL,
    status_reason         text,
    tools_status          text NOT NULL,
    tools_synced_at       timestamptz,
    connected_at          timestamptz,
    last_refreshed_at     timestamptz,
    last_used_at          timestamptz,
    metadata              jsonb NOT NULL,
    created_at            timestamptz NOT NULL,
    updated_at            timestamptz NOT NULL,
    UNIQUE (organization_id, nickname_slug)
);
-- The listing: an org's connections in (created_at, id) order, read straight off the index.
CREATE INDEX connections_by_organization ON connections (organization_id, created_at, id);

CREATE TABLE connection_tools (
    id                  uuid PRIMARY KEY,
    connection_id       uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    organization_id     uuid NOT NULL,
    -- byte order, as on SQLite, whatever the server's locale: lists are ordered by it
    tool_path           text COLLATE "C" NOT NULL,
    slug                text NOT NULL,
    -- sync-owned: overwritten by every sync
    display_name        text NOT NULL,
    description         text,
    input_schema        json NOT NULL,
    response_schema     json,
    -- operator-owned: never touched by a sync
    is_enabled          boolean NOT NULL,
    input_defaults      json,
    response_field_map  json,
    last_seen_at        timestamptz NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    UNIQUE (connection_id, tool_path),
    UNIQUE (connection_id, slug)
);
-- The listing: all of an org's tools grouped by connection, in tool_path order.
CREATE INDEX connection_tools_by_organization
    ON connection_tools (organization_id, connection_id, tool_path);
