CREATE TABLE orders (
  id CHAR(36) NOT NULL PRIMARY KEY,            -- derived from (user, idempotency key): see domain/ids.ts
  user_id CHAR(36) NOT NULL,
  user_email VARCHAR(254) NOT NULL,
  idempotency_key VARCHAR(64) NOT NULL,
  status VARCHAR(20) NOT NULL,
  currency CHAR(3) NOT NULL,
  subtotal_minor BIGINT NOT NULL,
  shipping_fee_minor BIGINT NOT NULL,
  total_minor BIGINT NOT NULL,
  shipping_address JSON NOT NULL,
  payment_id VARCHAR(64) NULL,
  delivery_id VARCHAR(64) NULL,
  cancel_reason VARCHAR(500) NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  UNIQUE KEY orders_idempotency (user_id, idempotency_key),
  KEY orders_user_created (user_id, created_at, id),
  KEY orders_status_created (status, created_at)
);

CREATE TABLE order_lines (
  order_id CHAR(36) NOT NULL,
  line_no INT NOT NULL,
  product_id CHAR(36) NOT NULL,
  name VARCHAR(200) NOT NULL,
  quantity INT NOT NULL,
  unit_price_minor BIGINT NOT NULL,
  line_total_minor BIGINT NOT NULL,
  PRIMARY KEY (order_id, line_no),
  CONSTRAINT order_lines_order FOREIGN KEY (order_id) REFERENCES orders (id)
);
