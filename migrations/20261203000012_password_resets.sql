-- One-time password reset links an admin issues (self-hosted: no email). The link carries a
-- random token; only its SHA-256 is stored. A link works once (used_at) and until expires_at;
-- issuing a new link for a user deletes the user's older unused ones.
CREATE TABLE password_resets (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    -- the admin who issued it (NULL: the command line)
    issued_by   uuid REFERENCES users(id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_resets_user ON password_resets (user_id);
