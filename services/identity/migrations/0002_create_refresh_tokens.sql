-- One row per issued refresh token. A family is one sign-in and all its rotations;
-- presenting a rotated token again revokes the family (the token was stolen or replayed).
CREATE TABLE refresh_tokens (
  id CHAR(36) NOT NULL PRIMARY KEY,
  family_id CHAR(36) NOT NULL,
  user_id CHAR(36) NOT NULL,
  token_hash CHAR(64) NOT NULL,
  expires_at TIMESTAMP(3) NOT NULL,
  created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  rotated_at TIMESTAMP(3) NULL,
  revoked_at TIMESTAMP(3) NULL,
  UNIQUE KEY refresh_tokens_hash (token_hash),
  KEY refresh_tokens_family (family_id),
  CONSTRAINT refresh_tokens_user FOREIGN KEY (user_id) REFERENCES users (id)
);
