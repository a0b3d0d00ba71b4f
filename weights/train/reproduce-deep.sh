#!/usr/bin/env bash
# Re-creates weights/tiny-gpt2-deep as shipped: the shipped 4-layer weights/tiny-gpt2 grown to 16 blocks and
# trained on (train_numpy.py --grow-from; two OpenBLAS threads, as the shipped run used: another thread count or
# OpenBLAS build changes the sums' order, so the weights agree only to rounding, then drift):
#   every block of tiny-gpt2 becomes 4 consecutive copies of itself, each keeping a quarter of the block's
#   attention and MLP output projections (--grow-mode split), then 1000 steps of 32 rows × 128 tokens, half
#   plain text, half repeated spans (half of them random ids), half of the rows without a leading BOS.
# About 30 minutes on 2 CPU cores. Needs python3 with numpy. Run from the repository root after `npm ci`.
set -euo pipefail
export OPENBLAS_NUM_THREADS=2
out=weights/tiny-gpt2-deep
work=$(mktemp -d)
npm run build
node dist/weights/train/encode.js --tokenizer weights/tiny-gpt2 --out "$work/ids"
mkdir -p "$out"
cp weights/tiny-gpt2/{tokenizer.json,tokenizer_config.json,vocab.json,merges.txt} "$out/"
python3 weights/train/train_numpy.py --ids "$work/ids" --grow-from weights/tiny-gpt2 --grow-factor 4 --grow-mode split \
  --out "$out" --steps 1000 --batch 32 --seq-len 128 --n-ctx 128 --warmup 50 --lr 0.001 \
  --repeat-fraction 0.5 --random-span-fraction 0.5 --bos-fraction 0.5 --eval-every 125 --seed 1234
node dist/weights/train/model-card.js "$out"
rm -rf "$work"
