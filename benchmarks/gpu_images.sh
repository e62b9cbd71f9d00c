#!/usr/bin/env bash
# The image benchmark at GPU scale: Fashion-MNIST (60,000 28x28 images, 10 classes; 10 % as
# members), plain GAN, K=2 lambda=0 and the chosen K=2 model, 3 seeds, three runs at a time
# on one GPU (meant to take about 5 minutes on one H200). Nothing is downloaded: the IDX
# files come from $FASHION_MNIST (default: where Debian's dataset-fashion-mnist package puts
# them; copy them into an ignored folder of the checkout to carry them to a GPU machine).
# Results under $OUT. Usage on the GPU machine, from the repository root:
#   FASHION_MNIST=.data/fashion-mnist bash benchmarks/gpu_images.sh
set -uo pipefail
OUT=${OUT:-benchmarks/results/gpu_images}
DATA=${FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
mkdir -p "$OUT"
python3 -m venv /tmp/venv && . /tmp/venv/bin/activate
pip install -q torch && pip install -q -e ".[test,benchmarks]"
nvidia-smi --query-gpu=name,memory.total --format=csv | tee "$OUT/gpu.txt"
python -m pytest -q tests/test_image_synthesizer.py tests/test_image_data.py 2>&1 | tail -3 \
    | tee "$OUT/tests.txt"
start=$(date +%s)
PYTHONUNBUFFERED=1 python -m benchmarks.image_privacy --full --device cuda --data-dir "$DATA" \
    --jobs 3 --threads 5 --out "$OUT/image_privacy_fashion.csv" 2>&1 \
    | tee "$OUT/image_privacy_fashion.txt"
echo "image benchmark: $(( $(date +%s) - start )) s" | tee -a "$OUT/gpu.txt"
