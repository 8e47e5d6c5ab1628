-- The state a callback reports, parsed once when it is received (issue 17): the inbox
-- worker reads it from here instead of parsing the stored body again. Rows stored before
-- this migration have none; the worker parses their body, as it did.

ALTER TABLE inbox ADD COLUMN state TEXT;
