-- Events a consumer has applied; the insert shares the transaction of the effect, so a
-- redelivered event finds its id here and is skipped.
CREATE TABLE IF NOT EXISTS processed_events (
  consumer VARCHAR(100) NOT NULL,
  event_id CHAR(36) NOT NULL,
  event_type VARCHAR(200) NOT NULL,
  processed_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (consumer, event_id)
);
