# shellcheck shell=bash
# Sourceable: puts the Node the project runs on first on PATH. The version lives in .nvmrc;
# the machine's own `node` is used when its major is at least .nvmrc's, otherwise the copy
# scripts/infra/install-node.sh keeps in $SHOPMESH_TOOLS. Children inherit PATH, so npm,
# npx, jest and every service spawned with process.execPath run on that Node too.
# Returns 1 (without changing PATH) when neither is there: run install-node.sh first.

if [ -n "${BASH_SOURCE[0]:-}" ]; then
  _shopmesh_node_file="${BASH_SOURCE[0]}"
elif [ -n "${ZSH_VERSION:-}" ]; then
  # shellcheck disable=SC2296
  _shopmesh_node_file="${(%):-%x}"
else
  _shopmesh_node_file="$0"
fi
_shopmesh_node_root="$(cd "$(dirname "$_shopmesh_node_file")/../.." && pwd)"
unset _shopmesh_node_file

SHOPMESH_NODE_VERSION="$(tr -d ' \t\r\nv' <"$_shopmesh_node_root/.nvmrc")"
SHOPMESH_NODE_MAJOR="${SHOPMESH_NODE_VERSION%%.*}"
SHOPMESH_NODE_HOME="${SHOPMESH_TOOLS:-$HOME/.cache/shopmesh/tools}/node-v$SHOPMESH_NODE_VERSION"
unset _shopmesh_node_root

# The major version of the `node` first on PATH (0 when there is none).
shopmesh_node_major() {
  local v
  v=$(node --version 2>/dev/null) || { echo 0; return; }
  v=${v#v}
  echo "${v%%.*}"
}

shopmesh_use_node() {
  [ "$(shopmesh_node_major)" -ge "$SHOPMESH_NODE_MAJOR" ] && return 0
  [ -x "$SHOPMESH_NODE_HOME/bin/node" ] || return 1
  export PATH="$SHOPMESH_NODE_HOME/bin:$PATH"
  # node-gyp builds against these headers instead of downloading them.
  export npm_config_nodedir="$SHOPMESH_NODE_HOME"
}

shopmesh_use_node
