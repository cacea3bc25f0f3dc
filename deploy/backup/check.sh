#!/usr/bin/env bash
# The backup procedure, tested end to end: fill a scratch database, dump it, drop it, restore it,
# and compare row counts and a checksum of the observations. Run by `make backup-check`.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
server="${PG_SERVER:-postgresql://postgres@127.0.0.1:5432}"
db="emotiscan_backup_check"
url="$server/$db"
work="$(mktemp -d)"
trap 'rm -rf "$work"; psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

psql -q "$server/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
DATABASE_URL="postgresql+psycopg://${url#postgresql://}" INSTANCE_PATH="$work" "$root/.venv/bin/flask" --app "$root/wsgi" db upgrade >/dev/null 2>&1
DATABASE_URL="postgresql+psycopg://${url#postgresql://}" INSTANCE_PATH="$work" "$root/.venv/bin/flask" --app "$root/wsgi" demo >/dev/null
psql -q "$url" -c "INSERT INTO observations (tenant_id, site_id, camera_id, ts, model_version, face_count, faces, latency_ms, happy, neutral)
  SELECT c.tenant_id, c.site_id, c.id, now() - g * interval '1 minute', 'check', 1, '[]', 4.2, 0.7, 0.3
  FROM cameras c CROSS JOIN generate_series(1, 5000) g"

summary() {
  psql -qtA "$url" -c "SELECT (SELECT count(*) FROM tenants) || '/' || (SELECT count(*) FROM users) || '/' ||
    (SELECT count(*) FROM cameras) || '/' || (SELECT count(*) FROM observations) || '/' ||
    (SELECT md5(string_agg(id::text || ts::text || coalesce(happy, 0)::text, ',' ORDER BY id)) FROM observations) || '/' ||
    (SELECT version_num FROM alembic_version)"
}
before="$(summary)"
dump="$("$here/backup.sh" "$url" "$work")"
psql -q "$server/postgres" -c "DROP DATABASE $db WITH (FORCE)"
"$here/restore.sh" "$dump" "$url" >/dev/null
after="$(summary)"
echo "before:   $before"
echo "restored: $after ($(du -h "$dump" | cut -f1) dump)"
[ "$before" = "$after" ] && echo "backup check: OK" || { echo "backup check: MISMATCH"; exit 1; }
