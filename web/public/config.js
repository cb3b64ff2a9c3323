// Replaced at run time by scripts/web/serve.mjs when SHOPMESH_EDGE_URL is set; the build's default applies otherwise.
window.__SHOPMESH__ = window.__SHOPMESH__ || {};
