#!/bin/sh
# Sets up a real Temporal server for Switchyard. Run by docker-compose.yml (temporal-schema and
# temporal-namespace services, in the temporalio/admin-tools image) and by
# test/integration/cluster.test.ts, so the steps a deployment runs are the steps the test proves.
#
#   deploy/temporal/setup.sh schema      # before the server starts: databases and schemas
#   deploy/temporal/setup.sh namespace   # once it runs: namespace, retention, search attributes
#
# schema reads SQL_HOST, SQL_PORT, SQL_USER, SQL_PASSWORD (as temporal-sql-tool does),
# TEMPORAL_DB (temporal), TEMPORAL_VISIBILITY_DB (temporal_visibility), TEMPORAL_SQL_TOOL.
# namespace reads TEMPORAL_ADDRESS (127.0.0.1:7233), TEMPORAL_NAMESPACE (default),
# TEMPORAL_RETENTION_DAYS (30), TEMPORAL_CLI. Both steps are safe to run again.
set -eu

SQL_TOOL=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}
CLI=${TEMPORAL_CLI:-temporal}
ADDRESS=${TEMPORAL_ADDRESS:-127.0.0.1:7233}
NAMESPACE=${TEMPORAL_NAMESPACE:-default}
RETENTION_DAYS=${TEMPORAL_RETENTION_DAYS:-30}
# Keep in step with src/platform/temporal/search-attributes.ts (a unit test compares them).
SEARCH_ATTRIBUTES="SwitchyardIntegration SwitchyardIntegrationId SwitchyardWebhookId SwitchyardMailboxId SwitchyardEventType SwitchyardEntityId"

say() { echo "[temporal-setup] $*"; }

# One database: created unless it exists, then the schema bundled in temporal-sql-tool
# (postgresql/v12/<schema>) brought to the tool's version.
setup_db() {
  db=$1
  schema=$2
  if ! out=$("$SQL_TOOL" --plugin postgres12 --db "$db" create-database 2>&1); then
    case "$out" in
      *"already exists"*) say "database $db exists" ;;
      *) echo "$out" >&2; exit 1 ;;
    esac
  else
    say "database $db created"
  fi
  "$SQL_TOOL" --plugin postgres12 --db "$db" setup-schema -v 0.0
  "$SQL_TOOL" --plugin postgres12 --db "$db" update-schema --schema-name "postgresql/v12/$schema"
  say "schema $schema up to date in $db"
}

# Retries a command for up to $1 seconds.
retry() {
  seconds=$1
  shift
  i=0
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -ge "$seconds" ]; then
      "$@"
      return 1
    fi
    sleep 1
  done
}

case "${1:-}" in
  schema)
    setup_db "${TEMPORAL_DB:-temporal}" temporal
    setup_db "${TEMPORAL_VISIBILITY_DB:-temporal_visibility}" visibility
    ;;
  namespace)
    retry 120 "$CLI" operator cluster health --address "$ADDRESS"
    if "$CLI" operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; then
      "$CLI" operator namespace update --namespace "$NAMESPACE" --retention "$((RETENTION_DAYS * 24))h" --address "$ADDRESS"
      say "namespace $NAMESPACE exists; retention ${RETENTION_DAYS} d"
    else
      "$CLI" operator namespace create --namespace "$NAMESPACE" --retention "$((RETENTION_DAYS * 24))h" --address "$ADDRESS"
      say "namespace $NAMESPACE created; retention ${RETENTION_DAYS} d"
    fi
    for name in $SEARCH_ATTRIBUTES; do
      retry 30 "$CLI" operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type Keyword --address "$ADDRESS"
    done
    # Ready once the frontend resolves our attributes in a visibility query.
    retry 60 "$CLI" workflow list --namespace "$NAMESPACE" --limit 1 --address "$ADDRESS" \
      --query "SwitchyardIntegrationId = 'setup-check'"
    say "search attributes registered: $SEARCH_ATTRIBUTES"
    ;;
  *)
    echo "usage: $0 schema|namespace" >&2
    exit 2
    ;;
esac
