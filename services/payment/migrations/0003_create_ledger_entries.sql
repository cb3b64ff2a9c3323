-- Double-entry ledger, append-only. Signed amounts (debit positive, credit negative); the
-- entries of one entry_group_id are one money movement and sum to zero.
CREATE TABLE ledger_entries (
  id CHAR(36) NOT NULL PRIMARY KEY,
  payment_id CHAR(36) NOT NULL,
  entry_group_id CHAR(36) NOT NULL,
  account VARCHAR(40) NOT NULL,
  amount_minor BIGINT NOT NULL,
  currency CHAR(3) NOT NULL,
  movement VARCHAR(16) NOT NULL,
  provider_event_id VARCHAR(100) NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  KEY ledger_entries_payment (payment_id),
  KEY ledger_entries_group (entry_group_id),
  CONSTRAINT ledger_entries_payment FOREIGN KEY (payment_id) REFERENCES payments (id)
);
