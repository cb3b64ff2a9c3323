-- One notification to one recipient. Workers claim due rows (status QUEUED or FAILED,
-- next_attempt_at reached) with FOR UPDATE SKIP LOCKED and lease them by moving
-- next_attempt_at forward, so replicas never send the same row at the same time.
CREATE TABLE notifications (
  id CHAR(36) NOT NULL PRIMARY KEY,
  idempotency_key VARCHAR(128) NOT NULL,
  channel VARCHAR(8) NOT NULL,
  recipient VARCHAR(254) NOT NULL,
  template_key VARCHAR(64) NOT NULL,
  data JSON NOT NULL,
  status VARCHAR(16) NOT NULL,
  attempts INT NOT NULL DEFAULT 0,
  last_error VARCHAR(2000) NULL,
  next_attempt_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  sent_at TIMESTAMP(3) NULL DEFAULT NULL,
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY notifications_idempotency (idempotency_key),
  KEY notifications_due (channel, status, next_attempt_at),
  KEY notifications_recipient (recipient, id),
  KEY notifications_status (status, id)
);
