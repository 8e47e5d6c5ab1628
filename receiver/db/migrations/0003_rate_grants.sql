-- Rate windows shared by every process on one database (provider create limits, chat pacing).

CREATE TABLE rate_grants (
    grant_key TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX rate_grants_key ON rate_grants (grant_key, at_ms);
