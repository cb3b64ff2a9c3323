-- What order knows of its payment and stock after PlaceOrder, learnt from events only:
-- the payment's status and the amount refunded (payment's events), and when the stock
-- reservation made by PlaceOrder expires (a payment after that comes too late).
ALTER TABLE orders
  ADD COLUMN payment_status VARCHAR(32) NULL AFTER payment_id,
  ADD COLUMN refunded_minor BIGINT NOT NULL DEFAULT 0 AFTER payment_status,
  ADD COLUMN reservation_expires_at TIMESTAMP(3) NULL AFTER refunded_minor;
