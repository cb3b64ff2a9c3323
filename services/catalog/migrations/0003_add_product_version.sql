-- One more on every change, carried by product events: the search index keeps the highest
-- version it has seen, so a late, older event never overwrites a newer one.
ALTER TABLE products ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
