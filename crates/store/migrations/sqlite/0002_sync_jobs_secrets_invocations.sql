-- Encrypted connection credentials, durable background jobs, and the record of tool
-- invocations.

-- Kept apart from `connections` so that no listing query ever reads a secret.
CREATE TABLE connection_secrets (
    connection_id  BLOB PRIMARY KEY NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    -- AEAD output: nonce followed by ciphertext; bound to connection_id as associated data
    sealed         BLOB NOT NULL,
    updated_at     TEXT NOT NULL
);

CREATE TABLE jobs (
    id                BLOB PRIMARY KEY NOT NULL,
    kind              TEXT NOT NULL,
    organization_id   BLOB NOT NULL,
    connection_id     BLOB NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    -- queued: waiting for run_at; running: claimed until lease_expires_at; failed: gave up
    state             TEXT NOT NULL,
    attempts          INTEGER NOT NULL,
    run_at            TEXT NOT NULL,
    lease_expires_at  TEXT,
    worker            TEXT,
    last_error        TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
-- At most one waiting job of a kind per connection: asking again while one waits is a no-op.
CREATE UNIQUE INDEX jobs_one_queued_per_connection ON jobs (connection_id, kind)
    WHERE state = 'queued';
CREATE INDEX jobs_due ON jobs (state, run_at);

-- One row per tool call made through the service, for analytics. No foreign keys: the
-- record outlives the connection.
CREATE TABLE tool_invocations (
    id               BLOB PRIMARY KEY NOT NULL,
    organization_id  BLOB NOT NULL,
    connection_id    BLOB NOT NULL,
    tool_id          BLOB NOT NULL,
    tool_path        TEXT NOT NULL,
    started_at       TEXT NOT NULL,
    duration_ms      INTEGER NOT NULL,
    outcome          TEXT NOT NULL,
    error            TEXT
);
CREATE INDEX tool_invocations_by_connection
    ON tool_invocations (organization_id, connection_id, started_at);
