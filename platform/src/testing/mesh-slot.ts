import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** How long a file may wait for the slot and then start its mesh (its beforeAll's timeout). */
export const MESH_SLOT_TIMEOUT_MS = 600_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * One whole mesh (every service as a process) at a time per test run. Ten processes starting
 * at once on two cores take a minute; two meshes at once starve each other past any start
 * timeout. Other jest workers go on with lighter files meanwhile. The slot is a directory made
 * atomically under the system temp folder; a holder that died frees it. Resolves with the
 * function that frees it.
 */
export async function acquireMeshSlot(timeoutMs = MESH_SLOT_TIMEOUT_MS): Promise<() => Promise<void>> {
  const slot = join(tmpdir(), `shopmesh-mesh-slot-${process.env["SHOPMESH_TEST_RUN"] ?? "adhoc"}`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await mkdir(slot);
      await writeFile(join(slot, "pid"), String(process.pid));
      return () => rm(slot, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number(await readFile(join(slot, "pid"), "utf8").catch(() => "0"));
    if (holder > 0 && !alive(holder)) {
      await rm(slot, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`no mesh slot within ${timeoutMs} ms (held by pid ${holder || "?"})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
