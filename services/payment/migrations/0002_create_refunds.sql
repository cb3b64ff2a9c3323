-- Refunds asked of the provider (REQUESTED) and confirmed by its charge.refunded webhook
-- (SUCCEEDED). Idempotent per payment and key; OrderCancelled uses the order id as key.
CREATE TABLE refunds (
  id CHAR(36) NOT NULL PRIMARY KEY,
  payment_id CHAR(36) NOT NULL,
  idempotency_key VARCHAR(64) NOT NULL,
  amount_minor BIGINT NOT NULL,
  reason VARCHAR(500) NOT NULL,
  status VARCHAR(16) NOT NULL,
  provider_refund_id VARCHAR(100) NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY refunds_idempotency (payment_id, idempotency_key),
  UNIQUE KEY refunds_provider (provider_refund_id),
  CONSTRAINT refunds_payment FOREIGN KEY (payment_id) REFERENCES payments (id),
  CONSTRAINT refunds_amount_positive CHECK (amount_minor > 0)
);
