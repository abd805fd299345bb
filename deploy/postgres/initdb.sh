#!/bin/sh
# Runs once, when the PostgreSQL data volume is empty (docker-entrypoint-initdb.d).
# One login role per user of the server: Temporal owns its two databases (it creates them, hence
# CREATEDB), the application owns `bhyt`. Neither is the superuser.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v temporal_password="$TEMPORAL_DB_PASSWORD" -v bhyt_password="$BHYT_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE ROLE bhyt LOGIN PASSWORD :'bhyt_password';
CREATE DATABASE bhyt OWNER bhyt;
SQL
