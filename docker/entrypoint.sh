#!/bin/bash
# The entrypoint of both images: `entrypoint.sh <service> <command...>`. Docker starts it as
# root only for what needs root; the command itself (the service, or its migrations) always
# runs as the image's unprivileged user `bun` (uid 1000):
#  1. each secret that docker-compose.yml hands over as NAME_FILE becomes NAME, read from a file
#     only root may read, so no secret shows in `docker inspect`;
#  2. $LOGS_DIR/<service> is created and given to `bun`, whoever owns the host folder mounted at
#     LOGS_DIR (root on a fresh clone, uid 1000, another uid, or none: Docker then creates it);
#  3. setpriv drops to `bun`, with no capabilities and no way to gain any, and execs the command,
#     so Bun is PID 1 and receives `docker stop`'s SIGTERM itself.
set -euo pipefail
service=$1
shift
say() { echo "entrypoint: $*" >&2; }

for var in SECRET_KEY SECRET_KEY_PREVIOUS AUTH_DATABASE_URL TRANS_DATABASE_URL AUTH_DB_SERVICE_PASSWORD TRANS_DB_SERVICE_PASSWORD; do
  file_var=${var}_FILE
  [[ -n ${!file_var:-} ]] || continue
  [[ -r ${!file_var} ]] || { say "cannot read ${!file_var} (${file_var}); did the secrets job run?"; exit 1; }
  export "$var=$(<"${!file_var}")"
  unset "$file_var"
done

if [[ $(id -u) != 0 ]]; then
  # Started as another user on purpose (`--user`): nothing to prepare, nothing to drop.
  exec "$@"
fi

as_bun=(setpriv --reuid=bun --regid=bun --init-groups --inh-caps=-all --bounding-set=-all --no-new-privs --)
if [[ -n ${LOGS_DIR:-} ]]; then
  dir=$LOGS_DIR/$service
  mkdir -p "$dir"
  # -h: a symbolic link planted in the host folder is changed itself, never what it points to.
  chown -hR bun:bun "$dir"
  # A host folder of mode 700 owned by someone else: bun may pass through it, no more.
  "${as_bun[@]}" test -x "$LOGS_DIR" || chmod o+x "$LOGS_DIR"
  "${as_bun[@]}" test -w "$dir" || { say "$dir is not writable by uid $(id -u bun) even after chown (a read-only or root-squashed mount?)"; exit 1; }
fi
exec "${as_bun[@]}" "$@"
