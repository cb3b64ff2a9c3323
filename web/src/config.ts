declare const __DEFAULT_EDGE_URL__: string;

declare global {
  interface Window {
    /** Set by /config.js, which the static server may write from SHOPMESH_EDGE_URL at run time. */
    __SHOPMESH__?: { edgeUrl?: string };
  }
}

/** The Envoy edge every RPC goes through: run-time /config.js first, then the build's default. */
export const EDGE_URL: string = (window.__SHOPMESH__?.edgeUrl ?? __DEFAULT_EDGE_URL__).replace(/\/$/, "");
