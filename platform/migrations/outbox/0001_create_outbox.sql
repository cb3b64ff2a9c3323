-- Events waiting to be published, written in the same transaction as the state change.
CREATE TABLE IF NOT EXISTS outbox (
  id CHAR(36) NOT NULL PRIMARY KEY,            -- UUIDv7: time-ordered, also the CloudEvents ce_id
  topic VARCHAR(200) NOT NULL,
  event_key VARCHAR(200) NOT NULL,             -- aggregate id: Kafka key, keeps per-aggregate order
  event_type VARCHAR(200) NOT NULL,            -- protobuf full name, the CloudEvents ce_type
  payload MEDIUMBLOB NOT NULL,                 -- protobuf binary of the event
  traceparent VARCHAR(128) NULL,               -- W3C trace context of the request that caused it
  tracestate VARCHAR(512) NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  published_at TIMESTAMP(3) NULL,
  KEY outbox_unpublished (published_at, id)
);
