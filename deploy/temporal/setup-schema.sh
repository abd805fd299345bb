#!/bin/sh
# Creates Temporal's two PostgreSQL databases and brings their schemas to the version of this
# admin-tools image. Runs on every `docker compose up`: each step is a no-op when already done
# (setup-schema skips a database past 0.0, update-schema applies only newer versions).
set -eu
: "${POSTGRES_SEEDS:=postgresql}" "${DB_PORT:=5432}" "${POSTGRES_USER:=temporal}"
export SQL_PASSWORD="${POSTGRES_PWD:?POSTGRES_PWD is required}"
SCHEMA=/etc/temporal/schema/postgresql/v12

tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$DB_PORT" -u "$POSTGRES_USER" "$@"
}

for db in temporal temporal_visibility; do
  # `create` fails when the database exists; a real connection problem fails the next command.
  tool --db "$db" create || echo "database $db already exists"
  tool --db "$db" setup-schema -v 0.0
done
tool --db temporal update-schema -d "$SCHEMA/temporal/versioned"
tool --db temporal_visibility update-schema -d "$SCHEMA/visibility/versioned"
echo "Temporal schema is up to date"
