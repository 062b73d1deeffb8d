-- Authorizations in progress: one row per `state` handed out with an authorize URL,
-- until its callback lands or it expires. The state itself is never stored, only its
-- SHA-256, so a read of this table cannot complete anyone's authorization.
CREATE TABLE oauth_authorizations (
    state_hash       bytea PRIMARY KEY,
    organization_id  uuid NOT NULL,
    connection_id    uuid NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    -- What the callback needs (PKCE verifier, client, endpoints), sealed for connection_id.
    sealed           bytea NOT NULL,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL
);
CREATE INDEX oauth_authorizations_by_connection ON oauth_authorizations (connection_id);
CREATE INDEX oauth_authorizations_by_expiry ON oauth_authorizations (expires_at);
