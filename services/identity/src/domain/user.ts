/** A user account as the service holds it; the hash never leaves the service. */
export interface UserRecord {
  id: string;
  email: string;
  displayName: string;
  roles: string[];
  passwordHash: string;
  createdAt: Date;
}

export const CUSTOMER_ROLE = "customer";
export const ADMIN_ROLE = "admin";

/** Emails compare case-insensitively; we store them lower-cased and trimmed. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
