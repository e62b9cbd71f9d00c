#!/usr/bin/env bash
# One short device session: GPU tests, then the GPU speed and distinguishability runs.
# Results go under $OUT (the device tool brings them back). Usage on the GPU machine,
# from the repository root:
#   bash benchmarks/gpu.sh
set -uo pipefail
OUT=${OUT:-benchmarks/results/gpu}
mkdir -p "$OUT"
python3 -m venv /tmp/venv && . /tmp/venv/bin/activate
pip install -q torch && pip install -q -e ".[test,benchmarks]"
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"
python -m pytest -q tests/test_gpu.py tests/test_synthesizer.py 2>&1 | tail -5 | tee "$OUT/tests.txt"
python -m benchmarks.speed --device cuda --rows 4000 --batch-size 400 --partitions 1 2 4 8 \
    --variants classifier_steps=5 ema_decay=0 --out "$OUT/speed_gpu.csv" 2>&1 | tail -8
python -m benchmarks.distinguishability --steps 3000 --seeds 0 1 2 \
    --configs lambda0_ema jsd_c1_ema --out "$OUT/distinguishability_gpu.csv" 2>&1 | tail -8
