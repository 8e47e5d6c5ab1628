-- Callback audit: which provider task a request named, and indexes for the list filters.

ALTER TABLE callbacks ADD COLUMN provider_task_id TEXT;
CREATE INDEX callbacks_provider ON callbacks (provider, id);
CREATE INDEX callbacks_verdict ON callbacks (verdict, id);
CREATE INDEX inbox_processed ON inbox (processed_at);
