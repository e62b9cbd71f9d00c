#!/usr/bin/env bash
# Scale on a GPU machine, in one go (about 8 minutes on one H200): the CUDA check that a
# training step never synchronizes with the host, time per epoch against SDV's CTGAN at
# 10k and 100k rows with sampled rows per second, peak host and device memory at 1M rows,
# 5M rows streamed to Parquet, and, with more than one GPU, 1 against N ranks over NCCL.
# Results go under $OUT (the device tool brings them back). Usage on the GPU machine:
#   bash benchmarks/gpu_scale.sh
set -uo pipefail
OUT=${OUT:-benchmarks/results/gpu_scale}
mkdir -p "$OUT"
python3 -m venv /tmp/venv && . /tmp/venv/bin/activate
pip install -q torch && pip install -q -e ".[test,benchmarks,parallel]"
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"
timeout 120 python -m pytest -q tests/test_scale.py tests/test_distributed.py 2>&1 | tail -5 \
    | tee "$OUT/tests.txt"
run() {  # a part of benchmarks.scale with a time limit, its summary kept
    local limit=$1; shift
    timeout "$limit" python -m benchmarks.scale --device cuda --out "$OUT" "$@" 2>&1 \
        | tail -25 | tee -a "$OUT/summary.txt"
}
run 240 --parts epoch --sizes 10000 100000 --rounds 1 --epochs 3 --sample-rows 1000000
run 150 --parts memory --sizes 1000000 --models priv --memory-epochs 3
run 120 --parts stream --stream-rows 5000000
NGPU=$(nvidia-smi -L | wc -l)
if [ "$NGPU" -gt 1 ]; then
    run 180 --parts ranks --worlds 1 "$NGPU" --rank-rows 100000 --rounds 1
fi
