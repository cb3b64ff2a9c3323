// Set-up for the storefront's browser tests: the built storefront on a free port, served
// with the edge's URL in /config.js, and Debian's Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { access, mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { startStorefrontServer } from "../../scripts/web/serve.mjs";
import { REPO_ROOT } from "../edge/harness.js";

export const CHROMIUM = process.env["SHOPMESH_CHROMIUM"] ?? "/usr/bin/chromium";
export const SCREENSHOTS = join(REPO_ROOT, "test-output", "web");

/** `vite build` of web/ into a throwaway folder (the checkout's web/dist is left alone). */
export async function buildStorefront(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "shopmesh-web-"));
  const output: string[] = [];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(join(REPO_ROOT, "node_modules", ".bin", "vite"), ["build", "--outDir", dir, "--emptyOutDir", "--logLevel", "warn"], {
      cwd: join(REPO_ROOT, "web"),
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => output.push(chunk.toString()));
    child.once("exit", resolve);
  });
  if (code !== 0) throw new Error(`vite build failed (${code}):\n${output.join("")}`);
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export interface ServedStorefront {
  origin: string;
  close(): Promise<void>;
}

/** Serves a build on 127.0.0.1 (port 0) and tells the page where the edge is. */
export function serveStorefront(dir: string, edgeUrl: string | undefined, port = 0): Promise<ServedStorefront> {
  return startStorefrontServer({ dir, port, edgeUrl });
}

export async function launchChromium(): Promise<Browser> {
  await access(CHROMIUM).catch(() => {
    throw new Error(`no Chromium at ${CHROMIUM}: run bash scripts/web/install-browser.sh`);
  });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** A full-page screenshot in test-output/web/<name>.png. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
