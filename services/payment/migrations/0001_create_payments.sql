-- One payment per order (order_id unique: a repeated CreatePaymentIntent finds it instead of
-- creating a second intent). Card data is never stored: the provider holds it.
CREATE TABLE payments (
  id CHAR(36) NOT NULL PRIMARY KEY,
  order_id CHAR(36) NOT NULL,
  user_id CHAR(36) NOT NULL,
  idempotency_key VARCHAR(64) NOT NULL,
  amount_minor BIGINT NOT NULL,
  currency CHAR(3) NOT NULL,
  status VARCHAR(32) NOT NULL,
  provider_intent_id VARCHAR(100) NULL,
  client_secret VARCHAR(200) NULL,
  checkout_url VARCHAR(500) NULL,
  failure_reason VARCHAR(200) NULL,
  refunded_minor BIGINT NOT NULL DEFAULT 0,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY payments_order (order_id),
  UNIQUE KEY payments_provider_intent (provider_intent_id),
  CONSTRAINT payments_amount_positive CHECK (amount_minor > 0),
  CONSTRAINT payments_refund_bounded CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor)
);
