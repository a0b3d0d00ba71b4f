#!/usr/bin/env bash
# Re-creates weights/tiny-gpt2 as shipped: the tokenizer (tfjs-lens's BPE trainer), the corpus as token ids,
# then two NumPy runs on CPU (train_numpy.py; deterministic for a given NumPy/OpenBLAS build):
#   1. curriculum: 1500 steps of 64 rows × 32 tokens, every row a corpus prefix + a random-id span repeated
#      (the induction circuit forms here; stopped at 1500 while its cosine schedule spans 20000 steps);
#   2. resumed from 1: 1500 steps of 32 rows × 128 tokens, half plain text, half repeated spans.
# About 35 minutes on 2 CPU cores (run 1 used one OpenBLAS thread). Needs python3 with numpy.
# Run from the repository root after `npm ci`.
set -euo pipefail
out=weights/tiny-gpt2
work=$(mktemp -d)
npm run build
node dist/weights/train/tokenizer.js --vocab 4096 --out "$out"
node dist/weights/train/encode.js --tokenizer "$out" --out "$work/ids"
OPENBLAS_NUM_THREADS=1 python3 weights/train/train_numpy.py --ids "$work/ids" --out "$out" \
  --steps 20000 --stop-after 1500 --batch 64 --seq-len 32 --n-ctx 128 --warmup 100 --lr 0.003 \
  --repeat-fraction 1 --random-span-fraction 1 --pos-init sinusoidal --eval-every 250 --seed 1234
cp -r "$out" "$work/stage1"
python3 weights/train/train_numpy.py --ids "$work/ids" --init "$work/stage1" --out "$out" \
  --steps 1500 --batch 32 --seq-len 128 --n-ctx 128 --warmup 100 --lr 0.003 \
  --repeat-fraction 0.5 --random-span-fraction 0.5 --eval-every 250 --seed 1234
node dist/weights/train/model-card.js "$out"
rm -rf "$work"
