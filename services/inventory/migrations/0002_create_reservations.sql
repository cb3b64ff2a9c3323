-- One reservation per order (the order id is the idempotency key of ReserveStock).
-- state: ACTIVE until committed, released, or expired by the sweeper.
CREATE TABLE reservations (
  order_id CHAR(36) NOT NULL PRIMARY KEY,
  state VARCHAR(16) NOT NULL,
  expires_at TIMESTAMP(3) NOT NULL,
  release_reason VARCHAR(200) NULL,
  created_at TIMESTAMP(3) NOT NULL,
  updated_at TIMESTAMP(3) NOT NULL,
  KEY reservations_due (state, expires_at)
);

CREATE TABLE reservation_items (
  order_id CHAR(36) NOT NULL,
  product_id CHAR(36) NOT NULL,
  quantity INT NOT NULL,
  PRIMARY KEY (order_id, product_id),
  CONSTRAINT reservation_items_reservation FOREIGN KEY (order_id) REFERENCES reservations (order_id)
);
