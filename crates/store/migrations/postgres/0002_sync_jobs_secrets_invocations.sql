-- Encrypted connection credentials, durable background jobs, and the record of tool
-- invocations.

-- Kept apart from `connections` so that no listing query ever reads a secret.
CREATE TABLE connection_secrets (
    connection_id  uuid PRIMARY KEY REFERENCES connections (id) ON DELETE CASCADE,
    -- AEAD output: nonce followed by ciphertext; bound to connection_id as associated data
    sealed         bytea NOT NULL,
    updated_at     timestamptz NOT NULL
);

CREATE TABLE jobs (
    id                uuid PRIMARY KEY,
    kind              text NOT NULL,
    organization_id   uuid NOT NULL,
    connection_id     uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    -- queued: waiting for run_at; running: claimed until lease_expires_at; failed: gave up
    state             text NOT NULL,
    attempts          integer NOT NULL,
    run_at            timestamptz NOT NULL,
    lease_expires_at  timestamptz,
    worker            text,
    last_error        text,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL
);
-- At most one waiting job of a kind per connection: asking again while one waits is a no-op.
CREATE UNIQUE INDEX jobs_one_queued_per_connection ON jobs (connection_id, kind)
    WHERE state = 'queued';
CREATE INDEX jobs_due ON jobs (state, run_at);

-- One row per tool call made through the service, for analytics. No foreign keys: the
-- record outlives the connection.
CREATE TABLE tool_invocations (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL,
    connection_id    uuid NOT NULL,
    tool_id          uuid NOT NULL,
    tool_path        text NOT NULL,
    started_at       timestamptz NOT NULL,
    duration_ms      bigint NOT NULL,
    outcome          text NOT NULL,
    error            text
);
CREATE INDEX tool_invocations_by_connection
    ON tool_invocations (organization_id, connection_id, started_at);
