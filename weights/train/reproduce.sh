#!/usr/bin/env bash
# Re-creates weights/tiny-gpt2 exactly as shipped: the tokenizer, then three CPU runs (wasm backend,
# single-threaded, deterministic), each resumed from the previous one's checkpoint. The runs were stopped
# early at these steps while their cosine schedules span --steps; --stop-after reproduces that.
# About 1 hour on 2 CPU cores. Run from the repository root after `npm ci`.
set -euo pipefail
out=weights/tiny-gpt2
work=$(mktemp -d)
npm run build
node dist/weights/train/tokenizer.js --vocab 4096 --out "$out"
export TFJS_LENS_BACKEND=wasm
node dist/weights/train/train.js --steps 1000 --stop-after 500 --batch 8 --seq-len 128 --lr 0.002 --warmup 50 \
  --repeat-fraction 0.4 --eval-every 200 --seed 1234 --out "$out"
cp -r "$out" "$work/ckpt500"
node dist/weights/train/train.js --init "$work/ckpt500" --start-step 500 --steps 2000 --stop-after 500 --batch 8 --seq-len 128 \
  --lr 0.0015 --warmup 20 --repeat-fraction 0.5 --eval-every 250 --seed 1234 --out "$out"
cp -r "$out" "$work/ckpt1000"
node dist/weights/train/train.js --init "$work/ckpt1000" --start-step 1000 --steps 1500 --stop-after 1000 --batch 8 --seq-len 128 \
  --lr 0.003 --warmup 20 --repeat-fraction 0.6 --eval-every 250 --seed 4321 --out "$out"
node dist/weights/train/model-card.js "$out"
rm -rf "$work"
