#!/usr/bin/env bash
# Starts two Axon servers for SyTest (../shared/sytest/README.md) on
# https://127.0.0.1:PORT0 and :PORT1, each server_name = 127.0.0.1:PORT, with
# a TLS listener serving client + federation, certificates signed by SyTest's
# own CA and that CA trusted for federation. Data lives under DIR (fresh each
# run). Prints the run.sh arguments; stop with: kill $(cat DIR/pids)
#
# usage: scripts/sytest-servers.sh [DIR] [PORT0] [PORT1] [sqlite|postgres]
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-/tmp/axon-sytest}"; P0="${2:-28571}"; P1="${3:-28572}"; ENGINE="${4:-sqlite}"
# ../shared beside the checkout (a git worktree one level further down looks two levels up).
SHARED=../shared; [ -d "$SHARED" ] || SHARED=../../shared
CA="$(cd "$SHARED/sytest/sytest/keys" && pwd)"
rm -rf "$DIR"; mkdir -p "$DIR"
: > "$DIR/pids"
for port in "$P0" "$P1"; do
  d="$DIR/hs-$port"; mkdir -p "$d"
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$d/tls.key" -out "$d/tls.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' > "$d/ext"
  openssl x509 -req -in "$d/tls.csr" -CA "$CA/ca.crt" -CAkey "$CA/ca.key" -CAcreateserial -days 30 -extfile "$d/ext" -out "$d/tls.crt" 2>/dev/null
  if [ "$ENGINE" = postgres ]; then
    db="axon_sytest_$port"; dropdb -h 127.0.0.1 -U postgres --if-exists "$db"; createdb -h 127.0.0.1 -U postgres "$db"
    database="database: {name: psycopg2, args: {user: postgres, dbname: $db, host: 127.0.0.1}}"
  else
    database="database: {name: sqlite3, args: {database: $d/homeserver.db}}"
  fi
  cat > "$d/homeserver.yaml" <<YAML
server_name: "127.0.0.1:$port"
public_baseurl: "https://127.0.0.1:$port/"
listeners:
  - {port: $port, bind_addresses: ['127.0.0.1'], type: http, tls: true, resources: [{names: [client, federation]}]}
tls_certificate_path: $d/tls.crt
tls_private_key_path: $d/tls.key
$database
signing_key_path: $d/signing.key
media_store_path: $d/media
enable_registration: true
enable_registration_without_verification: true
registration_shared_secret: reg_secret
allow_guest_access: true
allow_public_rooms_without_auth: true
allow_public_rooms_over_federation: true
federation_custom_ca_list: [$CA/ca.crt]
ip_range_whitelist: ['127.0.0.0/8']
# SyTest's fake servers speak room versions up to 11; 10 is Synapse's default.
default_room_version: "10"
# SyTest's identity server presents a self-signed certificate for "localhost" (Synapse runs SyTest with this too).
use_insecure_ssl_client_just_for_testing_do_not_use: true
url_preview_enabled: true
url_preview_ip_range_blacklist: ['10.0.0.0/8']
url_preview_ip_range_whitelist: ['127.0.0.0/8']
rc_message: {per_second: 10000, burst_count: 10000}
rc_registration: {per_second: 10000, burst_count: 10000}
rc_third_party_invite: {per_second: 10000, burst_count: 10000}
rc_login:
  address: {per_second: 10000, burst_count: 10000}
  account: {per_second: 10000, burst_count: 10000}
  failed_attempts: {per_second: 10000, burst_count: 10000}
YAML
  NODE_EXTRA_CA_CERTS="$CA/ca.crt" nohup node bin/axon start --config "$d/homeserver.yaml" > "$d/log" 2>&1 &
  echo $! >> "$DIR/pids"
done
for port in "$P0" "$P1"; do
  for _ in $(seq 1 60); do curl -ksf "https://127.0.0.1:$port/_matrix/client/versions" >/dev/null && break; sleep 0.5; done
done
echo "https://127.0.0.1:$P0,server_name=127.0.0.1:$P0 https://127.0.0.1:$P1,server_name=127.0.0.1:$P1"
