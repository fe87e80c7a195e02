#!/usr/bin/env bash
# Installs the packed npm tarball into a fresh CDK app in a temporary folder (aws-cdk-lib and
# constructs at the peer versions, nothing from this repository but the tarball) and synthesizes
# the README's quick start there.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
tarball=$(ls dist/js/cdk-three-tier@*.jsii.tgz 2>/dev/null | head -1 || true)
if [ -z "$tarball" ]; then
  npx projen package:js >/dev/null
  tarball=$(ls dist/js/cdk-three-tier@*.jsii.tgz | head -1)
fi
peer_cdk=$(node -p "require('./package.json').peerDependencies['aws-cdk-lib'].replace(/^\\^/, '')")
peer_constructs=$(node -p "require('./package.json').peerDependencies.constructs")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The quick start: the first TypeScript block of the README.
node -e '
const md = require("fs").readFileSync(process.argv[1], "utf8");
const m = /```ts nofixture\n([\s\S]*?)```/.exec(md);
if (!m) { console.error("README has no ```ts nofixture quick start"); process.exit(1); }
require("fs").writeFileSync(process.argv[2], m[1]);
' README.md "$tmp/app.ts"

cd "$tmp"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error \
  "$repo/$tarball" "aws-cdk-lib@$peer_cdk" "constructs@$peer_constructs" typescript@5 @types/node@20 >/dev/null
mkdir -p api
cat > api/server.js <<'JS'
require('http').createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT || 8080));
JS
npx tsc --strict --module commonjs --target es2020 --skipLibCheck --types node app.ts
CDK_OUTDIR="$tmp/cdk.out" node app.js
node -e '
const t = require(process.argv[1]);
const types = Object.values(t.Resources).map((r) => r.Type);
for (const need of ["AWS::EC2::VPC", "AWS::RDS::DBInstance", "AWS::ElasticLoadBalancingV2::LoadBalancer", "AWS::AutoScaling::AutoScalingGroup"]) {
  if (!types.includes(need)) { console.error("quick start template lacks " + need); process.exit(1); }
}
console.log("tarball quick start: synthesized " + types.length + " resources with aws-cdk-lib " + require("aws-cdk-lib/package.json").version);
' "$tmp/cdk.out/Shop.template.json"
