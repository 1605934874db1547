#!/usr/bin/env bash
# Installs a pinned wrangler into test/.wrangler/ (gitignored) for test/interop/wrangler.test.ts.
# wrangler is never a dependency of the gatehouse package: it lives only in this test folder.
#
# 4.86.0 is the newest wrangler whose engines accept Node 20 (4.87.0 requires Node >= 22).
# --ignore-scripts: the mtls-certificate commands run without esbuild's and workerd's install
# scripts (checked: upload, list, delete work), and nothing is downloaded beyond npm packages.
set -euo pipefail
WRANGLER_VERSION="${WRANGLER_VERSION:-4.86.0}"
dir="$(cd "$(dirname "$0")/.." && pwd)/.wrangler"
bin="$dir/node_modules/.bin/wrangler"
if [ -x "$bin" ] && [ "$(cat "$dir/.version" 2>/dev/null)" = "$WRANGLER_VERSION" ]; then
  echo "wrangler $WRANGLER_VERSION already in $dir"
  exit 0
fi
rm -rf "$dir"
mkdir -p "$dir"
printf '{ "name": "gatehouse-wrangler-interop", "private": true }\n' > "$dir/package.json"
npm install --prefix "$dir" --no-audit --no-fund --ignore-scripts --save-exact "wrangler@$WRANGLER_VERSION"
"$bin" --version >/dev/null
echo "$WRANGLER_VERSION" > "$dir/.version"
echo "wrangler $WRANGLER_VERSION installed in $dir"
