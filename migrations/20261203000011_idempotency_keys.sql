-- Idempotency-Key records (retry-safe creates): the first request with a key inserts its row,
-- runs, and stores its response; a retry with the same key and body gets that response back.
-- Kept per user (scope) for at least 24 hours, in PostgreSQL, so every server process agrees.
CREATE TABLE idempotency_keys (
    scope        text NOT NULL,
    key          text NOT NULL,
    path         text NOT NULL,
    body_hash    bytea NOT NULL,
    -- NULL while the first request is still running
    status       smallint,
    content_type text,
    location     text,
    body         bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
