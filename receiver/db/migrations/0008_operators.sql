-- Operators: retention by completion time, erased-task tombstones, custom webhook headers.

CREATE INDEX tasks_completed ON tasks (completed_at);
CREATE INDEX events_created ON events (created_at);
ALTER TABLE tasks ADD COLUMN erased_at BIGINT;
ALTER TABLE subscribers ADD COLUMN headers_enc TEXT;
