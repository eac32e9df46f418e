#!/usr/bin/env bash
# The whole benchmark in one command: builds shmq, shmqd and the driver in
# Release (into build-bench/), runs every comparison, and writes the results
# to bench/results/: results.md, results.json, machine.txt, the plot data and
# the PNG plots.
#
# Usage: bench/run.sh [shmq_bench options]     e.g. --quick, --only shmq,spsc_ring
# Environment: JOBS     parallel build jobs (default: nproc)
#              PYTHON_BENCH=0  skip the Python comparison (bench/python/bench.py)
#              BRIDGE_BENCH=0  skip the bridge's benchmark (bench/bridge)
#              OUTPUT_DIR  where the results go (default: bench/results)
# Needs cmake, a C++17 compiler, Boost, yaml-cpp, libzmq3-dev, iceoryx, gnuplot,
# python3-cffi, python3-dev and python3-zmq; the bridge's benchmark runs where
# libnats-dev and nats-server are installed:
# scripts/install-deps installs them all.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
build="$repo/build-bench"
output="${OUTPUT_DIR:-$repo/bench/results}"
driver="$build/bench/shmq_bench"

if ! command -v gnuplot >/dev/null; then
  echo "run.sh: gnuplot is missing (apt-get install gnuplot-nox, or scripts/install-deps)" >&2
  exit 1
fi
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DSHMQ_BUILD_BENCH=ON -DSHMQ_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" --target shmq_bench shmqd shmq shmq_python_native -j "${JOBS:-$(nproc)}"
# CMake builds the bridge's benchmark only where it found nats-server.
have_bridge_bench=0
if grep -q '^SHMQ_NATS_SERVER:FILEPATH=/' "$build/CMakeCache.txt"; then
  cmake --build "$build" --target shmq_bridge_bench -j "${JOBS:-$(nproc)}"
  have_bridge_bench=1
fi

for argument in "$@"; do
  case $argument in -h|--help) exec "$driver" --help ;; esac
done
status=0
"$driver" --output-dir "$output" "$@" || status=$?
# Plot even when a configuration failed: the others still have figures.
# A plot that cannot be drawn (e.g. from --quick's few samples) fails the run
# but does not stop it: the Python comparison below still runs.
if [ "$status" -le 1 ]; then
  { echo; echo "lscpu:"; lscpu; } >>"$output/machine.txt"
  if gnuplot -e "dir='$output'" "$repo/bench/plot.gp"; then
    echo "Plots: $output/round_trip_latency.png, $output/throughput.png, $output/zero_copy_round_trip.png"
  else
    echo "run.sh: gnuplot could not draw the plots (above)" >&2
    status=1
  fi
fi
# The Python comparison (bench/python/bench.py): shmq's Python package against
# multiprocessing and pyzmq, one process to another; it adds its figures and
# targets to results.md and results.json. PYTHON_BENCH=0 skips it, and so
# does a selection of the C++ runs (--only, --scenario, --payload).
python_arguments=()
python_bench=${PYTHON_BENCH:-1}
for argument in "$@"; do
  case $argument in
    --quick) python_arguments+=(--quick) ;;
    --only|--only=*|--scenario|--scenario=*|--payload|--payload=*) python_bench=0 ;;
  esac
done
if [ "$python_bench" != 0 ] && [ "$status" -le 1 ]; then
  /usr/bin/python3 "$repo/bench/python/bench.py" --build "$build" --output-dir "$output" \
    "${python_arguments[@]}" || status=1
fi
# The bridge's benchmark (bench/bridge): shmq-bridge's out route against
# publishing to JetStream directly, on a nats-server it starts on loopback;
# it adds its figures and targets to results.md and results.json.
# BRIDGE_BENCH=0 skips it, and so does a selection of the C++ runs.
bridge_arguments=()
bridge_bench=${BRIDGE_BENCH:-1}
for argument in "$@"; do
  case $argument in
    --quick) bridge_arguments+=(--quick) ;;
    --only|--only=*|--scenario|--scenario=*|--payload|--payload=*) bridge_bench=0 ;;
  esac
done
if [ "$have_bridge_bench" = 0 ] && [ "$bridge_bench" != 0 ]; then
  echo "run.sh: no bridge benchmark: nats-server or libnats-dev is missing (scripts/install-deps)" >&2
elif [ "$bridge_bench" != 0 ] && [ "$status" -le 1 ]; then
  { "$build/bench/bridge/shmq_bridge_bench" --output-dir "$output" "${bridge_arguments[@]}" &&
    /usr/bin/python3 "$repo/bench/bridge/merge.py" --output-dir "$output"; } || status=1
fi
exit "$status"
