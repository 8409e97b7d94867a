#!/usr/bin/env bash
# The FVC2002 verification benchmark, single-threaded (CPU times are per core).
# Usage: bench/verify_fvc.sh [DATA_DIR] [extra `scomm bench verify` options...]
#   DATA_DIR defaults to $SCOMM_DATA_DIR/fvc2002, else ../shared/data/fvc2002.
# Example: bench/verify_fvc.sh /work/shared/data/fvc2002 --peers --json /tmp/bench.json
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
data="${1:-${SCOMM_DATA_DIR:-$here/../shared/data}/fvc2002}"
shift || true
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1
exec "$here/.venv/bin/python" -c "from scomm.cli.bench import bench_app; bench_app()" \
    verify --data "$data" "$@"
