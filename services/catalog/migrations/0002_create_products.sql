-- Products are soft-deleted (active = 0, deleted_at set) so orders keep resolving them.
-- The keyset indexes match ListProducts' sort orders: (sort key, id) per order, with and
-- without a category filter; the FULLTEXT index serves SearchProducts.
CREATE TABLE products (
  id CHAR(36) NOT NULL PRIMARY KEY,
  sku VARCHAR(64) NOT NULL,
  name VARCHAR(200) NOT NULL,
  description TEXT NOT NULL,
  category_id CHAR(36) NOT NULL,
  price_minor BIGINT NOT NULL,
  currency CHAR(3) NOT NULL,
  attributes JSON NOT NULL,
  image_url VARCHAR(2048) NOT NULL DEFAULT '',
  active TINYINT(1) NOT NULL DEFAULT 1,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  deleted_at TIMESTAMP(3) NULL,
  UNIQUE KEY products_sku (sku),
  KEY products_newest (active, created_at, id),
  KEY products_price (active, price_minor, id),
  KEY products_name (active, name, id),
  KEY products_category_newest (category_id, active, created_at, id),
  KEY products_category_price (category_id, active, price_minor, id),
  KEY products_category_name (category_id, active, name, id),
  FULLTEXT KEY products_search (name, description, sku),
  CONSTRAINT products_category FOREIGN KEY (category_id) REFERENCES categories (id)
) ENGINE = InnoDB;
