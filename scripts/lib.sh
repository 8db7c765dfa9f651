# Shared by the scripts in this folder: paths, ports and helpers. Sourced, not run.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Everything the scripts start lives under here: data, logs, pid files.
STATE=${SWITCHBOARD_STATE:-$ROOT/.run}
VENV=${SWITCHBOARD_VENV:-$ROOT/.venv}
RABBIT_BIN=/usr/lib/rabbitmq/bin
# The MongoDB-compatible server the tests and the offline compose image run.
SECANTUS_REQUIREMENT='secantusdb==0.7.0b3'

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port PORT SECONDS NAME
wait_port() {
  local port=$1 secs=$2 name=$3 i
  for ((i = 0; i < secs * 10; i++)); do
    port_open "$port" && return 0
    sleep 0.1
  done
  die "$name did not listen on 127.0.0.1:$port within ${secs}s (logs: $STATE/$name)"
}

# pid_alive PID: running, and not a zombie (orphans may never be reaped here).
pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null || return 1
  local state; state=$(sed -n 's/^[0-9]* (.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
  [ "$state" != Z ]
}

# cpu_ticks PID...: user and system CPU of those processes so far, in clock ticks ("user system").
cpu_ticks() { local u=0 s=0 p f; for p in "$@"; do read -r -a f < <(sed 's/^.*) //' "/proc/$p/stat"); u=$((u + f[11])); s=$((s + f[12])); done; echo "$u $s"; }
