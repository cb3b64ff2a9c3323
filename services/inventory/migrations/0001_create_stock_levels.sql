-- One row per product ever stocked. available = on_hand - reserved is derived, never stored.
-- The CHECK is the last line of defence against oversell: no code path may leave
-- reserved above on_hand or below zero.
CREATE TABLE stock_levels (
  product_id CHAR(36) NOT NULL PRIMARY KEY,
  on_hand INT NOT NULL DEFAULT 0,
  reserved INT NOT NULL DEFAULT 0,
  low_stock_threshold INT NOT NULL DEFAULT 0,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  CONSTRAINT stock_levels_quantities CHECK (reserved >= 0 AND on_hand >= reserved AND low_stock_threshold >= 0)
);
