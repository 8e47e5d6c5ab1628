-- What the provider reported a task cost (JSON: {"units": {...}, "duration_s": ...}).

ALTER TABLE tasks ADD COLUMN cost TEXT;

-- When the result's URLs stop working (epoch ms): the provider's `expires_at`, else its
-- documented lifetime (about 24 h) after completion.
ALTER TABLE tasks ADD COLUMN expires_at BIGINT;
