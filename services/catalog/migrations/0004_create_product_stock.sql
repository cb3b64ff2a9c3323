-- Units available per product, as inventory's StockChanged events last reported them: the
-- read model behind the "in stock" search filter. Inventory owns the numbers; this copy
-- trails it by the event's lag. changed_at orders the events, so a redelivered older one
-- cannot bring back an earlier level.
CREATE TABLE product_stock (
  product_id CHAR(36) NOT NULL PRIMARY KEY,
  available INT NOT NULL,
  changed_at DATETIME(3) NOT NULL,
  KEY product_stock_changed_at (changed_at)
) ENGINE = InnoDB;
