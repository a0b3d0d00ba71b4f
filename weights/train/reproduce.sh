#!/usr/bin/env bash
# Re-creates weights/tiny-gpt2 as shipped: the tokenizer (tfjs-lens's BPE trainer), the corpus as token ids,
# then four NumPy runs on CPU (train_numpy.py; one OpenBLAS thread, deterministic for a given NumPy/OpenBLAS build):
#   1. text first: 600 steps of 32 rows × 128 tokens (half plain text, half a repeated span), sinusoidal
#      position init; its cosine schedule spans 20000 steps, so the learning rate stays at its peak;
#   2. copy curriculum, resumed from 1: 1200 steps of 64 rows × 32 tokens, 70% a corpus prefix + a random-id
#      span repeated, 30% plain text (the induction circuit starts forming here, best score 0.01 -> 0.37);
#   3. resumed from 2: 1500 steps of 32 rows × 128 tokens, half plain text, half repeated spans (induction 0.9);
#   4. resumed from 3: 500 steps like 3 at a lower peak lr, half of the rows without a leading BOS (prompts
#      without BOS are what the CLI feeds the model by default).
# About 55 minutes on 2 CPU cores. Needs python3 with numpy. Run from the repository root after `npm ci`.
set -euo pipefail
out=weights/tiny-gpt2
work=$(mktemp -d)
export OPENBLAS_NUM_THREADS=1
npm run build
node dist/weights/train/tokenizer.js --vocab 4096 --out "$out"
node dist/weights/train/encode.js --tokenizer "$out" --out "$work/ids"
python3 weights/train/train_numpy.py --ids "$work/ids" --out "$out" \
  --steps 20000 --stop-after 600 --batch 32 --seq-len 128 --n-ctx 128 --warmup 100 --lr 0.003 \
  --repeat-fraction 0.5 --random-span-fraction 0.5 --pos-init sinusoidal --eval-every 100 --seed 1234
cp -r "$out" "$work/stage1"
python3 weights/train/train_numpy.py --ids "$work/ids" --init "$work/stage1" --out "$out" \
  --steps 20000 --stop-after 1200 --batch 64 --seq-len 32 --n-ctx 128 --warmup 50 --lr 0.003 \
  --repeat-fraction 0.7 --random-span-fraction 1 --eval-every 100 --seed 1234
cp -r "$out" "$work/stage2"
python3 weights/train/train_numpy.py --ids "$work/ids" --init "$work/stage2" --out "$out" \
  --steps 1500 --batch 32 --seq-len 128 --n-ctx 128 --warmup 50 --lr 0.002 \
  --repeat-fraction 0.5 --random-span-fraction 0.5 --eval-every 100 --seed 1234
cp -r "$out" "$work/stage3"
python3 weights/train/train_numpy.py --ids "$work/ids" --init "$work/stage3" --out "$out" \
  --steps 500 --batch 32 --seq-len 128 --n-ctx 128 --warmup 50 --lr 0.001 \
  --repeat-fraction 0.5 --random-span-fraction 0.5 --bos-fraction 0.5 --eval-every 100 --seed 1234
node dist/weights/train/model-card.js "$out"
rm -rf "$work"
