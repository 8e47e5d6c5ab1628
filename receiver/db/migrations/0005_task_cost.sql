-- What the provider reported a task cost (JSON: {"units": {...}, "duration_s": ...}).

ALTER TABLE tasks ADD COLUMN cost TEXT;
