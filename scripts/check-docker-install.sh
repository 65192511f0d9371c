#!/usr/bin/env bash
# The Dockerfile's dependency install step, checked without a Docker engine: copies what the
# Dockerfile copies before that step (package.json, package-lock.json) into an empty directory
# and runs the step's own `npm ci ...` command there with --dry-run. npm ci refuses a lock file
# out of sync with package.json, so this fails exactly when `docker compose build` would.
set -euo pipefail
cd "$(dirname "$0")/.."

step=$(sed -nE 's/^RUN (npm ci .*)$/\1/p' Dockerfile)
[ -n "$step" ] || { echo "no 'RUN npm ci ...' step in Dockerfile" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cp package.json package-lock.json "$dir/"
echo "in a clean directory: $step --dry-run"
(cd "$dir" && NODE_ENV=production $step --dry-run)
