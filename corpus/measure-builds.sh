#!/usr/bin/env bash
# Plans, builds and probes the HTTP repositories of the corpus on a Docker
# engine, one at a time, and prints the share whose app answered.
#
#   corpus/measure-builds.sh REPOS_DIR [owner/name ...]
#
# REPOS_DIR holds the repositories as `owner+name` git directories (or their
# `repo/`), as for `deployflow bench analyse --corpus`; nothing is fetched.
# With names, only those are measured. The repositories are the HTTP ones of
# corpus/analysis.jsonl, or those of LIST (a JSON-lines file of `repo` and
# `description`, such as corpus/builds.jsonl). Each runs as
# `deployflow deploy --description … file://…` with PREFLIGHT=required and
# APPLY_MODE=plan, in a data directory of its own; required variables run
# with placeholders. DEPLOYFLOW (default: deployflow on PATH), DOCKER_HOST and
# BASE_IMAGE_REGISTRY (a mirror of the base images) come from the environment.
set -uo pipefail
cd "$(dirname "$0")/.."
repos=${1:?usage: corpus/measure-builds.sh REPOS_DIR [owner/name ...]}
shift
bin=${DEPLOYFLOW:-deployflow}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$repos" "${LIST:-corpus/analysis.jsonl}" "$@" > "$work/list" <<'PY'
import json, os, sys
repos, listing, only = sys.argv[1], sys.argv[2], set(sys.argv[3:])
for line in open(listing):
    label = json.loads(line)
    if not label.get("http", True) or (only and label["repo"] not in only):
        continue
    base = os.path.join(repos, label["repo"].replace("/", "+"))
    git = next((d for d in (os.path.join(base, "repo"), base)
                if os.path.isfile(os.path.join(d, "HEAD"))), None)
    if git:
        print(f'{label["repo"]}\tfile://{git}\t{label["description"]}')
PY

answered=0 total=0
while IFS=$'\t' read -r name url description; do
  total=$((total + 1))
  data="$work/$total"
  started=$(date +%s)
  if ALLOW_LOCAL_REPOS=true PREFLIGHT=required APPLY_MODE=plan AUTH=off DATA_DIR="$data" \
     "$bin" deploy --description "$description" --out "$data/out" "$url" > "$data.log" 2>&1 \
     && grep -q "^  info  preflight passed" "$data.log"; then
    answered=$((answered + 1))
    verdict="answered"
  else
    why=$(grep -m1 -oE '(preflight: |the deployment ended ).*' "$data.log" || tail -n 3 "$data.log")
    verdict="did not answer: $(echo "$why" | cut -c1-400)"
  fi
  echo "$name ($(( $(date +%s) - started ))s): $verdict"
done < "$work/list"
echo "$answered of $total answered"
