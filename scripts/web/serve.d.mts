/** Types for serve.mjs (imported by the browser tests). */
export declare const WEB_DIST: string;
export declare function startStorefrontServer(options?: {
  dir?: string;
  host?: string;
  port?: number;
  edgeUrl?: string | undefined;
}): Promise<{ origin: string; port: number; close: () => Promise<void> }>;
