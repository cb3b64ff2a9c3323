-- The order's cancellation as payment heard it (OrderCancelled). Kept on the payment because
-- the money may move after it: a success that arrives for a cancelled order is refunded at
-- once. While the payment still REQUIRES_CONFIRMATION, its provider intent is cancelled
-- after the commit (provider-work.ts), never inside the consumer's transaction.
ALTER TABLE payments
  ADD COLUMN order_cancelled_at TIMESTAMP(3) NULL AFTER refunded_minor,
  ADD COLUMN order_cancel_reason VARCHAR(500) NULL AFTER order_cancelled_at;

-- Refunds recorded but not yet sent to the provider: the provider work's queue.
CREATE INDEX refunds_unsent ON refunds (status, provider_refund_id);
