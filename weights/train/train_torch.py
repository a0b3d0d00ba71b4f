"""GPU training recipe for the shipped tiny GPT-2 (same architecture, data and sampling as train.ts).

The tfjs recipe (`train.ts`) runs on 2 CPU cores at ~1k tokens/s, which is too slow to reach the
tens of millions of tokens a 1.3M-parameter model needs for induction heads to form. This script
trains the same model with PyTorch on the lent GPU machine (torch 2.11, transformers 5.17, no network):

    source .gpu/setup.sh   # not needed for python; the GPU machine has torch
    python3 weights/train/train_torch.py --steps 20000 --batch 64 --out weights/tiny-gpt2

It reads the shipped tokenizer (weights/tiny-gpt2/tokenizer.json, built by tokenizer.ts) and
data/text/{train,heldout}.txt, and writes config.json + model.safetensors (HF layout, loadable by
`loadModel`) and training-log.json in the format train.ts writes (so model-card.ts can plot it).
"""
import argparse
import json
import math
import os
import random
import time

import torch
from tokenizers import Tokenizer
from transformers import GPT2Config, GPT2LMHeadModel


def encode_file(tok: Tokenizer, path: str) -> torch.Tensor:
    text = open(path, encoding="utf-8").read()
    ids = []
    for paragraph in text.splitlines(keepends=True):
        ids.extend(tok.encode(paragraph, add_special_tokens=False).ids)
    return torch.tensor(ids, dtype=torch.long)


def sample_sequence(tokens: torch.Tensor, length: int, vocab: int, repeat_fraction: float, rng: random.Random) -> list:
    """A corpus window, or (with repeat_fraction) a prefix followed by a span repeated to fill the length."""
    n = len(tokens)
    if rng.random() >= repeat_fraction:
        start = rng.randrange(n - length - 1)
        return tokens[start:start + length].tolist()
    span_len = 8 + rng.randrange(48)
    if rng.random() < 0.5:
        start = rng.randrange(n - span_len - 1)
        span = tokens[start:start + span_len].tolist()
    else:
        span = [rng.randrange(vocab) for _ in range(span_len)]
    prefix_len = rng.randrange(max(1, length - 2 * span_len))
    prefix_start = rng.randrange(n - prefix_len - 1)
    seq = tokens[prefix_start:prefix_start + prefix_len].tolist() + span
    while len(seq) < length:
        seq.extend(span)
    return seq[:length]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument("--repeat-fraction", type=float, default=0.4)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--out", default="weights/tiny-gpt2")
    args = p.parse_args()

    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tok = Tokenizer.from_file(os.path.join(args.out, "tokenizer.json"))
    vocab = tok.get_vocab_size()
    eos = tok.token_to_id("<|endoftext|>")
    train = encode_file(tok, "data/text/train.txt")
    heldout = encode_file(tok, "data/text/heldout.txt")
    config = GPT2Config(
        vocab_size=vocab, n_positions=args.seq_len, n_embd=128, n_layer=4, n_head=4, n_inner=512,
        activation_function="gelu_new", resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
        layer_norm_epsilon=1e-5, bos_token_id=eos, eos_token_id=eos, tie_word_embeddings=True,
    )
    model = GPT2LMHeadModel(config).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.95), eps=1e-8)
    held_rng = random.Random(args.seed + 1)
    held_batch = torch.tensor([sample_sequence(heldout, args.seq_len + 1, vocab, 0.0, held_rng) for _ in range(32)], device=device)
    log = []
    started = time.time()
    for step in range(1, args.steps + 1):
        progress = step / args.steps
        lr = args.lr * step / args.warmup if step < args.warmup else args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))
        for group in opt.param_groups:
            group["lr"] = lr
        batch = torch.tensor([sample_sequence(train, args.seq_len + 1, vocab, args.repeat_fraction, rng) for _ in range(args.batch)], device=device)
        out = model(batch[:, :-1], labels=batch[:, :-1].clone())
        # HF shifts labels inside; compute the loss on (input, next token) pairs explicitly instead:
        logits = out.logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        entry = {"step": step, "loss": float(loss), "seconds": time.time() - started}
        if step % args.eval_every == 0 or step == args.steps:
            with torch.no_grad():
                held_logits = model(held_batch[:, :-1]).logits
                entry["heldout"] = float(torch.nn.functional.cross_entropy(held_logits.reshape(-1, vocab), held_batch[:, 1:].reshape(-1)))
            print(f"step {step} loss {entry['loss']:.3f} heldout {entry['heldout']:.3f} ({entry['seconds']:.0f} s)", flush=True)
        log.append(entry)
    model.save_pretrained(args.out, safe_serialization=True)
    opts = {"steps": args.steps, "batch": args.batch, "seqLen": args.seq_len, "lr": args.lr, "warmup": args.warmup,
            "repeatFraction": args.repeat_fraction, "seed": args.seed, "out": args.out, "evalEvery": args.eval_every,
            "trainer": "pytorch (weights/train/train_torch.py)"}
    with open(os.path.join(args.out, "training-log.json"), "w") as f:
        json.dump({"options": opts, "log": log}, f)


if __name__ == "__main__":
    main()
