-- Which key sealed each credential: the key id (a fingerprint, never the key) that a
-- sealed value of format version 2 carries in bytes 2-9 (crates/service/src/secrets.rs);
-- NULL for version 1, which recorded none. Generated from the value, so it can never
-- disagree with it, whatever writes the value; indexed, so the keys that sealed the store
-- are one grouped count at start-up and a rotation finds what it has left to do.
ALTER TABLE connection_secrets ADD COLUMN key_id BLOB GENERATED ALWAYS AS (
    CASE WHEN substr(sealed, 1, 1) = x'02' THEN substr(sealed, 2, 8) END
) VIRTUAL;
CREATE INDEX connection_secrets_by_key ON connection_secrets (key_id);
