-- The local SMS provider: every "sent" SMS is a row here, for developers and tests to read.
CREATE TABLE sms_sink (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  notification_id CHAR(36) NOT NULL,
  recipient VARCHAR(32) NOT NULL,
  body TEXT NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY sms_sink_recipient (recipient, id)
);
