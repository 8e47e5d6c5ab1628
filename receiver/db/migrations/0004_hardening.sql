-- Hardening (issue 12): refused callbacks keep a bounded summary (size + digest of the body),
-- every audit row counts its stored bytes (the audit table's size cap drops the oldest),
-- and dashboard sessions live on the server (logout revokes one).

ALTER TABLE callbacks ADD COLUMN body_size BIGINT;
ALTER TABLE callbacks ADD COLUMN body_sha256 TEXT;
ALTER TABLE callbacks ADD COLUMN stored_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE callbacks SET stored_bytes = LENGTH(headers) + COALESCE(LENGTH(body), 0) + 200;

CREATE TABLE dashboard_sessions (
    id TEXT PRIMARY KEY,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX dashboard_sessions_expires ON dashboard_sessions (expires_at);

-- /readyz writes (and commits) this one row: a database that cannot be written is not ready.
CREATE TABLE readiness_probe (
    id INTEGER PRIMARY KEY,
    checked_at BIGINT NOT NULL
);
