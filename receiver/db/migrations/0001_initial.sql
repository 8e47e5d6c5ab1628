-- taskhook schema v1. Portable SQL: runs unchanged on SQLite and PostgreSQL.
-- Times are UTC epoch milliseconds (BIGINT); JSON is TEXT; booleans are INTEGER 0/1.

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    input TEXT NOT NULL,
    provider_task_id TEXT,
    status TEXT NOT NULL,
    progress INTEGER NOT NULL DEFAULT 0,
    mode TEXT NOT NULL,
    callback_token_hash TEXT,
    next_poll_at BIGINT,
    poll_count INTEGER NOT NULL DEFAULT 0,
    poll_lease_until BIGINT,
    deadline_at BIGINT,
    result TEXT,
    error TEXT,
    idempotency_key TEXT UNIQUE,
    parent_id TEXT,
    then_spec TEXT,
    external INTEGER NOT NULL DEFAULT 0,
    completion_source TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT,
    UNIQUE (provider, provider_task_id)
);
CREATE INDEX tasks_status ON tasks (status, id);
CREATE INDEX tasks_provider ON tasks (provider, id);
CREATE INDEX tasks_next_poll ON tasks (next_poll_at);
CREATE INDEX tasks_token ON tasks (callback_token_hash);
CREATE INDEX tasks_parent ON tasks (parent_id);

-- The timeline of a task: submitted, polls, callbacks, completion, chaining.
CREATE TABLE task_history (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    detail TEXT,
    at BIGINT NOT NULL
);
CREATE INDEX task_history_task ON task_history (task_id, id);

-- terminal_task_id is the task id for task.* events and NULL otherwise:
-- the UNIQUE constraint is what guarantees at most one terminal event per task.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    task_id TEXT,
    type TEXT NOT NULL,
    source TEXT,
    payload TEXT NOT NULL,
    terminal_task_id TEXT UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_task ON events (task_id, id);
CREATE INDEX events_type ON events (type, id);

-- Every inbound callback request, accepted or not, for audit (retention-limited).
CREATE TABLE callbacks (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    route TEXT NOT NULL,
    headers TEXT NOT NULL,
    body TEXT,
    verdict TEXT NOT NULL,
    reason TEXT,
    status_code INTEGER NOT NULL,
    task_id TEXT,
    received_at BIGINT NOT NULL
);
CREATE INDEX callbacks_received ON callbacks (received_at);

-- Authenticated callbacks, committed before the 2xx, processed off the request path.
CREATE TABLE inbox (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    task_id TEXT,
    provider_task_id TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    signed INTEGER NOT NULL DEFAULT 0,
    received_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT,
    processed_at BIGINT,
    last_error TEXT
);
CREATE INDEX inbox_due ON inbox (processed_at, next_attempt_at);

CREATE TABLE subscribers (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    kind TEXT NOT NULL,
    secret_enc TEXT,
    old_secret_enc TEXT,
    old_secret_until BIGINT,
    filter TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    paused INTEGER NOT NULL DEFAULT 0,
    disabled_reason TEXT,
    failing_since BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row per (event, subscriber, generation); a replay adds a new generation.
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    subscriber_id TEXT NOT NULL,
    generation INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    attempt_count INTEGER NOT NULL DEFAULT 0,
    due_at BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until BIGINT,
    last_status INTEGER,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    delivered_at BIGINT,
    UNIQUE (event_id, subscriber_id, generation)
);
CREATE INDEX deliveries_due ON deliveries (state, due_at);
CREATE INDEX deliveries_event ON deliveries (event_id);
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id, id);

CREATE TABLE attempts (
    id TEXT PRIMARY KEY,
    delivery_id TEXT NOT NULL,
    attempt_no INTEGER NOT NULL,
    started_at BIGINT NOT NULL,
    status_code INTEGER,
    latency_ms INTEGER,
    outcome TEXT NOT NULL,
    error TEXT
);
CREATE INDEX attempts_delivery ON attempts (delivery_id, id);
