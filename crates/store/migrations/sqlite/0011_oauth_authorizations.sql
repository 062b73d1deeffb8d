-- Authorizations in progress: one row per `state` handed out with an authorize URL,
-- until its callback lands or it expires. The state itself is never stored, only its
-- SHA-256, so a read of this table cannot complete anyone's authorization.
CREATE TABLE oauth_authorizations (
    state_hash       BLOB PRIMARY KEY NOT NULL,
    organization_id  BLOB NOT NULL,
    connection_id    BLOB NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    -- What the callback needs (PKCE verifier, client, endpoints), sealed for connection_id.
    sealed           BLOB NOT NULL,
    created_at       TEXT NOT NULL,
    expires_at       TEXT NOT NULL
);
CREATE INDEX oauth_authorizations_by_connection ON oauth_authorizations (connection_id);
CREATE INDEX oauth_authorizations_by_expiry ON oauth_authorizations (expires_at);
