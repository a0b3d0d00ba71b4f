#!/usr/bin/env python3
"""Cold start of Hugging Face PyTorch on a checkpoint directory, the reference of `bench/load-time.ts`:
`from_pretrained` (safetensors, memory-mapped), then the first forward with `output_hidden_states=True` + the
logit lens (final layer norm and unembedding of every hidden state) on fixed ids, then the same again warm.
Prints one JSON object: seconds of each step and the process's peak RSS.

  python3 bench/reference/load_hf.py CHECKPOINT_DIR [--tokens 8] [--warm 3]
"""
import argparse
import json
import resource
import time

import torch
import transformers


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--tokens", type=int, default=8)
    parser.add_argument("--warm", type=int, default=3)
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    t0 = time.perf_counter()
    model = transformers.AutoModelForCausalLM.from_pretrained(args.checkpoint, torch_dtype=torch.float32, attn_implementation="eager")
    model.eval()
    load_s = time.perf_counter() - t0
    vocab = model.config.vocab_size
    ids = torch.tensor([[(i * 7919 + 13) % vocab for i in range(args.tokens)]])
    norm = model.transformer.ln_f if hasattr(model, "transformer") else model.model.norm
    head = model.lm_head

    def run():
        out = model(input_ids=ids, output_hidden_states=True, use_cache=False)
        # hidden_states[-1] already has ln_f applied in GPT-2; the lens reads the others through ln_f.
        lens = torch.stack([head(norm(h)) for h in out.hidden_states[:-1]] + [out.logits])
        return float(lens[-1, 0, -1].argmax())

    t1 = time.perf_counter()
    run()
    first_s = time.perf_counter() - t1
    warm = []
    for _ in range(args.warm):
        t2 = time.perf_counter()
        run()
        warm.append(time.perf_counter() - t2)
    warm.sort()
    print(json.dumps({
        "tool": "pytorch",
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__},
        "threads": torch.get_num_threads(),
        "loadSeconds": load_s,
        "firstRunSeconds": first_s,
        "warmRunSeconds": warm[len(warm) // 2],
        "rssPeakBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }))


if __name__ == "__main__":
    main()
