#!/usr/bin/env bash
# Back up the EmotiScan PostgreSQL database: a compressed custom-format dump, then a check that it
# reads back. Usage: deploy/backup/backup.sh postgresql://user@host:5432/emotiscan /backups
# Keep 14 days: find /backups -name 'emotiscan-*.dump' -mtime +14 -delete (cron, daily).
set -euo pipefail
url="${1:?database URL}"
dir="${2:-.}"
file="$dir/emotiscan-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --compress=6 --no-owner --file="$file" "$url"
pg_restore --list "$file" >/dev/null  # the archive is readable
echo "$file"
