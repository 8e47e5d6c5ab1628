-- Send attempts get their own columns (issue 17). Until its provider accepts a task, the
-- submitter keeps the task's send schedule here: when the next attempt is due (NULL: now),
-- how many attempts failed, and the sending process's lease. The poll columns
-- (next_poll_at, poll_count, poll_lease_until) then mean polls only.

ALTER TABLE tasks ADD COLUMN send_next_at BIGINT;
ALTER TABLE tasks ADD COLUMN send_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN send_lease_until BIGINT;

-- Until now the submitter kept that schedule in the poll columns. A task without a
-- provider task id has never been polled (the poller needs the id), so for such a task
-- they held send state only: move it over, so a task still waiting to be sent is sent.
UPDATE tasks SET send_next_at = next_poll_at, send_attempts = poll_count,
    send_lease_until = poll_lease_until, next_poll_at = NULL, poll_count = 0,
    poll_lease_until = NULL
WHERE provider_task_id IS NULL;

-- The submitter's due query reads unsent tasks only: a small partial index.
CREATE INDEX tasks_send_due ON tasks (send_next_at) WHERE status = 'submitted' AND provider_task_id IS NULL;
