-- Cookie sessions of the server-rendered pages. The cookie holds a random token; only its
-- SHA-256 is stored.
CREATE TABLE web_sessions (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
