-- Delivery partners. service_area_prefixes is a JSON array of normalized postal-code
-- prefixes; matching happens in the domain (src/domain/assignment.ts), not in SQL.
-- account_user_id links one identity login (role "partner") to at most one partner.
CREATE TABLE partners (
  id CHAR(36) NOT NULL PRIMARY KEY,
  name VARCHAR(200) NOT NULL,
  contact_email VARCHAR(254) NOT NULL,
  phone VARCHAR(16) NOT NULL,
  available BOOLEAN NOT NULL,
  service_area_prefixes JSON NOT NULL,
  daily_capacity INT NOT NULL,
  max_order_items INT NOT NULL,
  account_user_id CHAR(36) NULL,
  created_at TIMESTAMP(3) NOT NULL,
  updated_at TIMESTAMP(3) NOT NULL,
  UNIQUE KEY partners_account (account_user_id),
  KEY partners_by_name (name, id)
);
