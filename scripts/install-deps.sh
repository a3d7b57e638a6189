#!/usr/bin/env bash
# Installs, with apt-get, whatever Kennel's build, tests and benchmarks need and
# this machine lacks. Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost-dev nlohmann-json3-dev libsqlite3-dev libssl-dev
  libspdlog-dev libfmt-dev libcli11-dev libnl-3-dev libnl-route-3-dev libyaml-cpp-dev
  iproute2 nftables util-linux bsdutils perl-base redis-server
  libgtest-dev libgmock-dev libbenchmark-dev
  ca-certificates curl procps
  dnsutils  # dig, for tests/e2e/dns_test
  etcd-server  # the etcd store backend's tests run real etcd members
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc  # etcd's gRPC API
)
# Benchmarks drive wrk and NSD (with dnsperf) as peers.
if [[ "${KENNEL_BENCH_DEPS:-0}" == 1 ]]; then packages+=(wrk dnsperf nsd); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# kubectl drives the end-to-end tests; the machine image may already have a
# newer one than Debian's (which is 1.20): only install Debian's if none is here.
if ! command -v kubectl >/dev/null 2>&1; then missing+=(kubernetes-client); fi

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
