-- Media archive, per-task webhooks and metadata, lifecycle events (issue 14).

-- One row per result file of a succeeded task: downloaded (with a lease) into the media
-- store, retried with backoff until the provider's copy expires.
CREATE TABLE media_files (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    source_url TEXT NOT NULL,
    state TEXT NOT NULL,
    storage_key TEXT,
    sha256 TEXT,
    bytes BIGINT,
    content_type TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    source_expires_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    archived_at BIGINT,
    deleted_at BIGINT,
    UNIQUE (task_id, name)
);
CREATE INDEX media_files_due ON media_files (state, next_attempt_at);
CREATE INDEX media_files_archived ON media_files (state, archived_at);

-- One row per task whose task.succeeded waits for its files. `state`: waiting (the
-- event's deliveries are held until release_at), released (it went out with the
-- archived media), pending (it went out with media pending: a follow-up event is due).
-- followup_event_id is set once, by compare-and-set: one media_ready/media_failed.
CREATE TABLE media_waits (
    task_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    state TEXT NOT NULL,
    release_at BIGINT NOT NULL,
    followup_event_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX media_waits_release ON media_waits (state, release_at);

-- Per-task metadata and one-off webhook: a subscriber row scoped to one task (task_id),
-- signed with the install-wide task-webhook secret (install_secrets).
ALTER TABLE tasks ADD COLUMN metadata TEXT;
ALTER TABLE tasks ADD COLUMN webhook TEXT;
ALTER TABLE subscribers ADD COLUMN task_id TEXT;
CREATE INDEX subscribers_task ON subscribers (task_id);
CREATE TABLE install_secrets (
    name TEXT PRIMARY KEY,
    secret_enc TEXT NOT NULL,
    old_secret_enc TEXT,
    old_secret_until BIGINT,
    updated_at BIGINT NOT NULL
);

-- Lifecycle events: when the last task.progress went out and with which value (at most
-- one per task every 10 s, only when the progress changed).
ALTER TABLE tasks ADD COLUMN progress_event_at BIGINT;
ALTER TABLE tasks ADD COLUMN progress_event_value INTEGER;

-- Progress estimates: when the provider accepted the task and how long it is expected to
-- take (the provider's estimate, or the median of the model's recent tasks).
ALTER TABLE tasks ADD COLUMN started_at BIGINT;
ALTER TABLE tasks ADD COLUMN expected_ms BIGINT;
