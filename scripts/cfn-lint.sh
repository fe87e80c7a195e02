#!/usr/bin/env bash
# cfn-lint every synthesized example template and every integ snapshot template: zero errors and
# zero warnings (the only ignores are in .cfnlintrc.yaml, each with its reason).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cfn-lint >/dev/null || { echo "cfn-lint is not installed: pip install -r requirements-dev.txt" >&2; exit 1; }
shopt -s nullglob
templates=(cdk.out/examples/*/*.template.json integ/*.snapshot/*.template.json)
if [ ${#templates[@]} -eq 0 ]; then
  echo "no templates found: run 'npx projen examples:synth' first" >&2
  exit 1
fi
cfn-lint --format parseable -- "${templates[@]}"
echo "cfn-lint: ${#templates[@]} templates, 0 errors, 0 warnings"
