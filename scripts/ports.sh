# SPDX-License-Identifier: AGPL-3.0-or-later
#
# Port choice for the throwaway test clusters (sourced by start-rgw.sh and
# start-postgres.sh). Another cluster, a developer's or a second checkout's
# test run, may hold a default port, so a port nobody asked for moves on to
# the first free one.

# Succeeds when something listens on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Prints the port to listen on: $1 itself when it was asked for ($2 non-empty)
# and is free, else the first free port from $1 on that is not $3.
pick_port() {
  local p=$1
  if [[ -n $2 ]]; then
    ! port_in_use "$p" || { echo "port 127.0.0.1:$p is already in use" >&2; return 1; }
  else
    while port_in_use "$p" || ((p == ${3:-0})); do
      ((++p <= 65535)) || { echo "no free port from $1 on" >&2; return 1; }
    done
  fi
  echo "$p"
}
