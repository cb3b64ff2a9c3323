-- Event-carried state: who a user is (from UserRegistered and OrderPlaced) and whose an order
-- is (from OrderPlaced), so notifications never need a synchronous call to identity or order.
CREATE TABLE recipients (
  user_id VARCHAR(64) NOT NULL PRIMARY KEY,
  email VARCHAR(254) NOT NULL,
  display_name VARCHAR(100) NOT NULL DEFAULT '',
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
);

CREATE TABLE order_recipients (
  order_id VARCHAR(64) NOT NULL PRIMARY KEY,
  user_id VARCHAR(64) NOT NULL,
  email VARCHAR(254) NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
);
