#!/usr/bin/env bash
# Builds Kennel and starts a single-node cluster (`kennel up`: API server,
# controllers and a node agent that runs pods) with its embedded store.
# Data lives in /var/lib/kennel (override: KENNEL_DATA_DIR); the API listens on
# 127.0.0.1:6443 (override: KENNEL_LISTEN). The admin kubeconfig is written to
# <data-dir>/kubeconfig.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
data_dir="${KENNEL_DATA_DIR:-/var/lib/kennel}"
listen="${KENNEL_LISTEN:-127.0.0.1:6443}"
exec ./build/src/cmd/kennel up --data-dir "$data_dir" --listen "$listen"
