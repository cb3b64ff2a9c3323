-- One delivery per order, created UNASSIGNED from OrderPlaced (or, when PAID came first, as a
-- placeholder with an empty postal_code that OrderPlaced completes). paid_at is set by
-- OrderStatusChanged(PAID) and makes it assignable; closed_at (order cancelled or payment
-- failed) stops assignment. assigned_at counts against the partner's daily capacity.
-- unassigned_reason remembers the last failed assignment so DeliveryUnassigned is emitted
-- only when the reason changes, not on every retry.
CREATE TABLE deliveries (
  id CHAR(36) NOT NULL PRIMARY KEY,
  order_id CHAR(36) NOT NULL,
  user_id CHAR(36) NOT NULL,
  postal_code VARCHAR(16) NOT NULL,
  item_count INT NOT NULL,
  status VARCHAR(16) NOT NULL,
  partner_id CHAR(36) NULL,
  paid_at TIMESTAMP(3) NULL,
  closed_at TIMESTAMP(3) NULL,
  assigned_at TIMESTAMP(3) NULL,
  unassigned_reason VARCHAR(300) NULL,
  last_note VARCHAR(500) NOT NULL DEFAULT '',
  created_at TIMESTAMP(3) NOT NULL,
  updated_at TIMESTAMP(3) NOT NULL,
  UNIQUE KEY deliveries_order (order_id),
  KEY deliveries_partner_load (partner_id, assigned_at),
  KEY deliveries_partner_list (partner_id, id),
  KEY deliveries_awaiting_partner (status, paid_at)
);
