-- Message templates by key, with `{{var}}` placeholders. Email bodies are HTML; SMS bodies text.
CREATE TABLE templates (
  template_key VARCHAR(64) NOT NULL PRIMARY KEY,
  channel VARCHAR(8) NOT NULL,
  subject VARCHAR(500) NOT NULL DEFAULT '',
  body MEDIUMTEXT NOT NULL,
  updated_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)
);
