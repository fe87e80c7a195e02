#!/usr/bin/env bash
# Runs the unit tests against the newest aws-cdk-lib (and constructs) in a temporary folder, so
# users on new releases are covered. The repository's own install is not touched.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The working tree's files (tracked and new, not ignored), without installs or build output.
(cd "$repo" && git ls-files -co --exclude-standard -z | grep -zv '^integ/.*\.snapshot/' | xargs -0 cp --parents -t "$tmp")
# Bundled Lambda handlers (built by the compile step, not tracked).
if [ -d "$repo/assets" ]; then cp -r "$repo/assets" "$tmp/assets"; fi
# The jsii assembly (built by the compile step, not tracked): tests read the API from it.
if [ -f "$repo/.jsii" ]; then cp "$repo/.jsii" "$tmp/.jsii"; fi
mkdir -p "$tmp/node_modules"
for entry in "$repo"/node_modules/* "$repo"/node_modules/.bin; do
  name=$(basename "$entry")
  case "$name" in aws-cdk-lib|constructs|cdk-nag) continue ;; esac
  ln -s "$entry" "$tmp/node_modules/$name"
done
# Scoped packages are linked as a whole folder above; aws-cdk-lib's own dependencies come with it.
cd "$tmp"
npm install --no-save --no-audit --no-fund --loglevel=error --ignore-scripts --no-package-lock \
  --prefix "$tmp/.newest" aws-cdk-lib@latest constructs@^10 cdk-nag@3.0.2 >/dev/null
ln -s "$tmp/.newest/node_modules/aws-cdk-lib" node_modules/aws-cdk-lib
ln -s "$tmp/.newest/node_modules/constructs" node_modules/constructs
ln -s "$tmp/.newest/node_modules/cdk-nag" node_modules/cdk-nag
version=$(node -p "require('aws-cdk-lib/package.json').version")
echo "unit tests against aws-cdk-lib $version"
# The boot rehearsal runs the examples' user data on the pinned aws-cdk-lib in the main test run;
# here it would add about 3 minutes and test the rehearsal scripts, not aws-cdk-lib.
npx jest --ci --coverage=false --testPathIgnorePatterns '/node_modules/' '/cdk.out/' '\.snapshot/' 'boot-rehearsal' -- "$@"
