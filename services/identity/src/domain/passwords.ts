import { hash, verify } from "@node-rs/argon2";

/** argon2id (algorithm 2) with OWASP's minimum parameters (19 MiB, 2 passes). */
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

/** A real hash to verify against when the email is unknown, so both failures take as long. */
const decoy = hashPassword("decoy-password-never-matches");

export async function verifyPassword(storedHash: string | undefined, password: string): Promise<boolean> {
  try {
    return await verify(storedHash ?? (await decoy), password);
  } catch {
    return false;
  }
}
