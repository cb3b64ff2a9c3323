-- Provider webhook events already handled. The insert shares the transaction of the event's
-- effect, so a redelivered event (same id) finds its row and changes nothing.
CREATE TABLE provider_events (
  event_id VARCHAR(100) NOT NULL PRIMARY KEY,
  event_type VARCHAR(100) NOT NULL,
  provider_intent_id VARCHAR(100) NULL,
  outcome VARCHAR(300) NOT NULL,
  received_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
);
