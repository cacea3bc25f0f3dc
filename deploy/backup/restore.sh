#!/usr/bin/env bash
# Restore a dump made by backup.sh into a database (created if missing, emptied if not).
# Usage: deploy/backup/restore.sh FILE.dump postgresql://user@host:5432/emotiscan
# Stop the web and worker processes first; start them again afterwards (migrations run on start).
set -euo pipefail
file="${1:?dump file}"
url="${2:?database URL}"
name="${url##*/}"
admin="${url%/*}/postgres"
psql -q -v ON_ERROR_STOP=1 "$admin" -c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" -c "CREATE DATABASE \"$name\""
pg_restore --no-owner --exit-on-error --dbname="$url" "$file"
echo "restored $file into $name"
