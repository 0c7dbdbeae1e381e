#!/usr/bin/env bash
# Scans the Terraform deployflow renders, for every target, with checkov, and
# fails on any failed check that crates/infra/checkov-allowlist.yaml does not
# accept for that target (each allowlist entry says why).
#
#   scripts/checkov.sh [REPO_DIR...]
#
# Without REPO_DIR, a few fixture repositories of the analysis tests are used.
# checkov is installed from PyPI into a virtualenv ($CHECKOV_VENV, default
# ~/.cache/deployflow-checkov) on first use; `terraform fmt -check` also runs
# when terraform is on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

CHECKOV_VERSION="${CHECKOV_VERSION:-3.3.30}"
VENV="${CHECKOV_VENV:-$HOME/.cache/deployflow-checkov}"
ALLOWLIST="${CHECKOV_ALLOWLIST:-crates/infra/checkov-allowlist.yaml}"
FIXTURES=crates/analysis/tests/fixtures

if [ "$#" -gt 0 ]; then
  repos=("$@")
else
  repos=("$FIXTURES/express-payments/repo" "$FIXTURES/django-blog/repo" "$FIXTURES/fastapi-inventory/repo")
fi

if [ "$("$VENV/bin/checkov" --version 2>/dev/null)" != "$CHECKOV_VERSION" ]; then
  echo "installing checkov $CHECKOV_VERSION into $VENV"
  start=$SECONDS
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "checkov==$CHECKOV_VERSION"
  echo "installed in $((SECONDS - start))s"
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

cargo run --quiet --locked -p deployflow-infra --example render_terraform -- "$out/tf" "${repos[@]}" >/dev/null

if command -v terraform >/dev/null; then
  terraform fmt -check -recursive "$out/tf"
fi

start=$SECONDS
# checkov exits non-zero on any failed check; the verdict below decides.
"$VENV/bin/checkov" --directory "$out/tf" --framework terraform --skip-download --quiet \
  --output json >"$out/report.json" || true
echo "checkov scanned $(ls -d "$out"/tf/*/*/ | wc -l) configurations in $((SECONDS - start))s"

"$VENV/bin/python" - "$ALLOWLIST" "$out/report.json" <<'PY'
import json
import pathlib
import sys

import yaml

allowlist_path, report_path = sys.argv[1], pathlib.Path(sys.argv[2])
allowed = set()  # (check, target)
entries = yaml.safe_load(open(allowlist_path))
for index, entry in enumerate(entries):
    if not entry.get("reason", "").strip():
        sys.exit(f"{allowlist_path}: entry {index + 1} has no reason")
    allowed.update((c, t) for c in entry["checks"] for t in entry["targets"])

results = json.loads(report_path.read_text() or "[]")
results = [r for r in (results if isinstance(results, list) else [results]) if r.get("check_type") == "terraform"]
if not results or results[0]["summary"].get("parsing_errors"):
    sys.exit("checkov produced no terraform results, or could not parse the files")
summary = results[0]["summary"]
used, unexpected = set(), []
for failed in results[0]["results"]["failed_checks"]:
    # Files are reported as /<repo>/<target>/<file>.tf
    repo, target, file = failed["file_path"].lstrip("/").split("/", 2)
    if (failed["check_id"], target) in allowed:
        used.add(failed["check_id"])
    else:
        unexpected.append(f"{repo}/{target}: {failed['check_id']} {failed['check_name']} ({failed['resource']} in {file})")

for index, entry in enumerate(entries):
    stale = [c for c in entry["checks"] if c not in used]
    if stale:
        print(f"warning: allowlist entry {index + 1} matched nothing for {', '.join(stale)}; remove it if the templates fixed it")

if unexpected:
    print(f"{len(unexpected)} failed checkov check(s) not in {allowlist_path}:")
    print("\n".join(f"  {line}" for line in unexpected))
    print("Fix the template, or add the check with its reason to the allowlist.")
    sys.exit(1)
print(f"checkov: {summary['passed']} passed, {summary['failed']} failed, all in the allowlist")
PY
