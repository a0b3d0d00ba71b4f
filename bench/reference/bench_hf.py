#!/usr/bin/env python3
"""PyTorch / Hugging Face reference for `tfjs-lens bench`: the same models (random init from the same
config dicts), the same input shapes and the same JSON schema ("tfjs-lens-bench/1", in a
"tfjs-lens-bench-suite/1" file), so that `node dist/bench/compare.js OURS.json THIS.json` can print
ours / PyTorch ratios.

What is measured (fp32, TF32 off, `torch.inference_mode()`):
  forward     model(**inputs, use_cache=False) (logits included), CUDA events around each call
  cache states the same with output_hidden_states=True (HF's residual states h_0 … h_L; `resid` = the same, for old files)
  cache all   the same with a forward hook on every submodule keeping its output (TransformerLens-style)
  blocks      CUDA events recorded by forward pre-hooks / hooks inside extra forward passes:
              block = block pre-hook → block hook; attn = attention-norm pre-hook → attention hook;
              cross_attn (Whisper decoder) = cross-attention-norm pre-hook → cross-attention hook;
              mlp = MLP-norm pre-hook → MLP (GPT-2 `mlp`, ViT `output`, Whisper `fc2`) hook
  memory      torch.cuda.max_memory_allocated during a plain forward; ru_maxrss of the process

Usage (on a machine with torch + transformers and a GPU):
  python3 bench/reference/bench_hf.py --model gpt2-xl --batch 1 --seq 1024 --iters 10 --cache resid,all --out torch.json
  python3 bench/reference/bench_hf.py --from-result bench/results/ours.json --out torch.json   # same runs as a tfjs result file
"""
import argparse
import datetime
import json
import os
import platform
import resource
import socket
import statistics
import sys
import time

import torch
import transformers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from configs import MODEL_NAMES, bench_config  # noqa: E402

RESULT_SCHEMA = "tfjs-lens-bench/1"
SUITE_SCHEMA = "tfjs-lens-bench-suite/1"


# ---------------------------------------------------------------------------------------------- stats

def summarize(samples):
    """{n, min, median, max, mean} as lib/bench/stats.ts (median of an even count = mean of the middle two)."""
    if not samples:
        raise ValueError("no samples")
    return {
        "n": len(samples),
        "min": float(min(samples)),
        "median": float(statistics.median(samples)),
        "max": float(max(samples)),
        "mean": float(statistics.fmean(samples)),
    }


def throughput(ms_samples, units):
    return summarize([units / (max(ms, 1e-6) / 1000.0) for ms in ms_samples])


# ---------------------------------------------------------------------------------------------- clock

class Clock:
    """CUDA events on a GPU (device time between two points of the stream), perf_counter on the CPU."""

    def __init__(self, device):
        self.cuda = device.type == "cuda"

    def mark(self):
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    def finish(self):
        if self.cuda:
            torch.cuda.synchronize()

    def elapsed_ms(self, start, end):
        if self.cuda:
            return start.elapsed_time(end)
        return (end - start) * 1000.0


# ---------------------------------------------------------------------------------------------- models

def first_attr(obj, names, what):
    for name in names:
        if hasattr(obj, name):
            return getattr(obj, name)
    raise AttributeError(f"{type(obj).__name__} has none of {names} ({what}); transformers changed its module names")


def build_model(config_dict, device, attn_implementation=None):
    """Random-init HF model from a config dict (as lib/bench/targets.ts modelFromConfig)."""
    kwargs = {k: v for k, v in config_dict.items() if k != "model_type"}
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    family = config_dict["model_type"]
    if family == "gpt2":
        config, cls = transformers.GPT2Config(**kwargs), transformers.GPT2LMHeadModel
    elif family == "vit":
        config, cls = transformers.ViTConfig(**kwargs), transformers.ViTForImageClassification
    elif family == "whisper":
        config, cls = transformers.WhisperConfig(**kwargs), transformers.WhisperForConditionalGeneration
    elif family == "llama":
        config, cls = transformers.LlamaConfig(**kwargs), transformers.LlamaForCausalLM
    elif family == "gpt_neox":
        config, cls = transformers.GPTNeoXConfig(**kwargs), transformers.GPTNeoXForCausalLM
    elif family == "gemma2":
        # tfjs-lens records the family as "gemma" (lib/bench/targets.ts)
        family, (config, cls) = "gemma", (transformers.Gemma2Config(**kwargs), transformers.Gemma2ForCausalLM)
    else:
        raise SystemExit(f"unsupported model_type {family!r}")
    with torch.device(device):
        model = cls(config)
    return family, model.to(device=device, dtype=torch.float32).eval()


def make_inputs(family, model, batch, seq, seed, device):
    """Random inputs of the requested shape, and the positions the blocks process per item."""
    cfg = model.config
    gen = torch.Generator(device="cpu").manual_seed(seed)
    if family in ("gpt2", "llama", "gpt_neox", "gemma"):
        ids = torch.randint(0, cfg.vocab_size, (batch, seq), generator=gen).to(device)
        return {"input_ids": ids, "use_cache": False}, seq
    if family == "vit":
        pixels = torch.randn(batch, cfg.num_channels, cfg.image_size, cfg.image_size, generator=gen).to(device)
        return {"pixel_values": pixels}, (cfg.image_size // cfg.patch_size) ** 2 + 1
    features = torch.randn(batch, cfg.num_mel_bins, 2 * cfg.max_source_positions, generator=gen).to(device)
    ids = torch.randint(0, cfg.vocab_size, (batch, seq), generator=gen).to(device)
    return {"input_features": features, "decoder_input_ids": ids, "use_cache": False}, cfg.max_source_positions + seq


def block_stacks(family, model, batch, seq):
    """[(prefix, layers, tokens per call)] in forward order, named like tfjs-lens (blocks.i, encoder.blocks.i, …)."""
    cfg = model.config
    if family == "gpt2":
        return [("", list(model.transformer.h), batch * seq)]
    if family in ("llama", "gemma"):
        return [("", list(model.model.layers), batch * seq)]
    if family == "gpt_neox":
        return [("", list(model.gpt_neox.layers), batch * seq)]
    if family == "vit":
        # transformers 4.x: model.vit.encoder.layer; 5.x: model.vit.layers
        encoder = getattr(model.vit, "encoder", model.vit)
        layers = first_attr(encoder, ["layer", "layers"], "ViT encoder layers")
        return [("", list(layers), batch * ((cfg.image_size // cfg.patch_size) ** 2 + 1))]
    return [
        ("encoder.", list(model.model.encoder.layers), batch * cfg.max_source_positions),
        ("decoder.", list(model.model.decoder.layers), batch * seq),
    ]


def part_modules(family, layer):
    """{part: (module whose pre-hook starts it, module whose hook ends it)} for one block."""
    if family == "gpt2":
        return {"attn": (layer.ln_1, layer.attn), "mlp": (layer.ln_2, layer.mlp)}
    if family == "llama":
        return {"attn": (layer.input_layernorm, layer.self_attn), "mlp": (layer.post_attention_layernorm, layer.mlp)}
    if family == "gpt_neox":
        return {"attn": (layer.input_layernorm, layer.attention), "mlp": (layer.post_attention_layernorm, layer.mlp)}
    if family == "gemma":
        # the sandwich norms after attention / MLP are left out of the parts, as the attention part of tfjs-lens includes ln1_post
        return {"attn": (layer.input_layernorm, layer.self_attn), "mlp": (layer.pre_feedforward_layernorm, layer.mlp)}
    if family == "vit":
        return {
            "attn": (first_attr(layer, ["layernorm_before", "layer_norm1", "norm1"], "ViT attention norm"),
                     first_attr(layer, ["attention", "self_attn"], "ViT attention")),
            "mlp": (first_attr(layer, ["layernorm_after", "layer_norm2", "norm2"], "ViT MLP norm"),
                    first_attr(layer, ["mlp", "output"], "ViT MLP output")),
        }
    parts = {"attn": (layer.self_attn_layer_norm, layer.self_attn)}
    if hasattr(layer, "encoder_attn"):
        parts["cross_attn"] = (layer.encoder_attn_layer_norm, layer.encoder_attn)
    parts["mlp"] = (layer.final_layer_norm, layer.fc2)
    return parts


# ---------------------------------------------------------------------------------------------- measuring

def output_tensor(out):
    if isinstance(out, torch.Tensor):
        return out
    return out.logits


def tensors_in(value):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for v in value:
            yield from tensors_in(v)
    elif isinstance(value, dict) or hasattr(value, "items"):
        for v in value.values():
            yield from tensors_in(v)


def unique_bytes(tensors):
    seen, total = set(), 0
    for t in tensors:
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape))
        if key not in seen:
            seen.add(key)
            total += t.numel() * t.element_size()
    return total


def time_series(clock, fn, warmup, iters):
    """ms of `iters` calls of fn after `warmup` untimed ones; each call is bracketed by two clock marks."""
    samples = []
    for i in range(warmup + iters):
        start = clock.mark()
        result = fn()
        end = clock.mark()
        clock.finish()
        del result
        if i >= warmup:
            samples.append(clock.elapsed_ms(start, end))
    return samples


def run_cached(model, inputs, mode):
    """One forward keeping activations: returns (output, kept tensors, number of names kept)."""
    if mode in ("states", "resid"):  # HF's hidden states = tfjs-lens's `states` (h_0 … h_L); `resid` is kept for old files
        out = model(**inputs, output_hidden_states=True)
        states = []
        for key in ("hidden_states", "encoder_hidden_states", "decoder_hidden_states"):
            value = getattr(out, key, None)
            if value is not None:
                states.extend(value)
        return out, states, len(states)
    kept, handles = [], []
    for name, module in model.named_modules():
        if name:
            handles.append(module.register_forward_hook(lambda _m, _a, o: kept.extend(tensors_in(o))))
    try:
        out = model(**inputs)
    finally:
        for h in handles:
            h.remove()
    return out, kept, len(handles)


def time_blocks(clock, family, model, inputs, stacks, layer_sel, warmup, iters):
    """Per-block and per-part times from marks recorded by hooks during extra forward passes."""
    handles, marks, plan = [], {}, []

    def mark_hook(key):
        def hook(*_args):
            marks[key] = clock.mark()
        return hook

    for prefix, layers, tokens in stacks:
        indices = range(len(layers)) if layer_sel == "all" else [i for i in layer_sel if i < len(layers)]
        for i in indices:
            name = f"{prefix}blocks.{i}"
            layer = layers[i]
            handles.append(layer.register_forward_pre_hook(mark_hook((name, "block", 0))))
            handles.append(layer.register_forward_hook(mark_hook((name, "block", 1))))
            parts = part_modules(family, layer)
            for part, (first, last) in parts.items():
                handles.append(first.register_forward_pre_hook(mark_hook((name, part, 0))))
                handles.append(last.register_forward_hook(mark_hook((name, part, 1))))
            plan.append((name, tokens, ["block", *parts]))
    samples = {(name, part): [] for name, _, parts in plan for part in parts}
    try:
        for r in range(warmup + iters):
            marks.clear()
            model(**inputs)
            clock.finish()
            if r < warmup:
                continue
            for (name, part), values in samples.items():
                values.append(clock.elapsed_ms(marks[(name, part, 0)], marks[(name, part, 1)]))
    finally:
        for h in handles:
            h.remove()
    blocks = []
    for name, tokens, parts in plan:
        block_ms = samples[(name, "block")]
        blocks.append({
            "name": name,
            "tokens": tokens,
            "ms": summarize(block_ms),
            "kernelMs": None,
            "tokensPerSecond": throughput(block_ms, tokens),
            "parts": [
                {"part": p, "ms": summarize(samples[(name, p)]), "kernelMs": None, "tokensPerSecond": throughput(samples[(name, p)], tokens)}
                for p in parts if p != "block"
            ],
        })
    return blocks


def host_info():
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 0
    return {
        "hostname": socket.gethostname(), "platform": sys.platform, "arch": platform.machine(), "cpu": cpu,
        "cores": os.cpu_count() or 1, "memoryBytes": memory,
    }


def current_rss_bytes():
    """Resident set size of this process now (VmRSS), or None where /proc is absent."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def bench_one(name, config_dict, args, device, batch, seq, warmup, iters, cache_modes, layer_sel):
    clock = Clock(device)
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    base_bytes = torch.cuda.memory_allocated() if device.type == "cuda" else None
    rss_base_bytes = current_rss_bytes()
    family, model = build_model(config_dict, device, args.attn)
    weights_bytes = torch.cuda.memory_allocated() - base_bytes if device.type == "cuda" else None
    params = sum(p.numel() for p in model.parameters())
    inputs, tokens_per_item = make_inputs(family, model, batch, seq, args.seed, device)
    tokens_per_call = batch * tokens_per_item
    result = {}
    with torch.inference_mode():
        forward_ms = time_series(clock, lambda: output_tensor(model(**inputs)), warmup, iters)
        forward = summarize(forward_ms)
        peak = None
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            model(**inputs)
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated() - base_bytes
        cache = [{"mode": "none", "names": 0, "bytes": 0, "ms": forward, "tokensPerSecond": throughput(forward_ms, tokens_per_call),
                  "slowdown": 1.0, "peakBytes": peak}]
        for mode in cache_modes:
            if mode == "none":
                continue
            info = {}

            def cached_call():
                out, kept, names = run_cached(model, inputs, mode)
                info["names"], info["bytes"] = names, unique_bytes(kept)
                return out

            ms = time_series(clock, cached_call, warmup, iters)
            mode_peak = None
            if device.type == "cuda":
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
                out, kept, _ = run_cached(model, inputs, mode)
                torch.cuda.synchronize()
                mode_peak = torch.cuda.max_memory_allocated() - base_bytes
                del out, kept
            stats = summarize(ms)
            cache.append({"mode": mode, "names": info["names"], "bytes": info["bytes"], "ms": stats,
                          "tokensPerSecond": throughput(ms, tokens_per_call), "slowdown": stats["median"] / forward["median"],
                          "peakBytes": mode_peak})
        blocks = []
        if layer_sel != "none":
            blocks = time_blocks(clock, family, model, inputs, block_stacks(family, model, batch, seq), layer_sel, warmup, iters)
        overhead = None
        if device.type == "cuda":
            pairs = [(clock.mark(), clock.mark()) for _ in range(max(iters, 5))]
            clock.finish()
            overhead = summarize([clock.elapsed_ms(a, b) for a, b in pairs])
    result = {
        "schema": RESULT_SCHEMA,
        "tool": "pytorch",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
        "host": host_info(),
        "backend": device.type,
        "device": (torch.cuda.get_device_name(device) if device.type == "cuda" else host_info()["cpu"])
        + f" (torch {torch.__version__}, attn_implementation={getattr(model.config, '_attn_implementation', '?')}, fp32, TF32 off)",
        "versions": {
            "python": platform.python_version(), "torch": torch.__version__, "transformers": transformers.__version__,
            **({"cuda": torch.version.cuda} if torch.version.cuda else {}),
            **({"cudnn": str(torch.backends.cudnn.version())} if device.type == "cuda" and torch.backends.cudnn.version() else {}),
        },
        "model": {"name": name, "family": family, "source": "random", "params": int(params), "config": config_dict},
        "settings": {"batch": batch, "seq": tokens_per_item if family == "vit" else seq, "warmup": warmup, "iters": iters,
                     "dtype": "float32", "seed": args.seed},
        "tokensPerItem": tokens_per_item,
        "forward": {"ms": forward, "tokensPerSecond": throughput(forward_ms, tokens_per_call), "itemsPerSecond": throughput(forward_ms, batch)},
        "cache": cache,
        "blocks": blocks,
        "memory": {
            "weightsBytes": weights_bytes,
            "peakBytes": None if peak is None else peak,
            "peakActivationBytes": None if peak is None or weights_bytes is None else peak - weights_bytes,
            "rssPeakBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "rssBaseBytes": rss_base_bytes,
        },
        "timing": {
            "method": "in-pass marks: CUDA events (CPU: perf_counter) recorded by forward pre-hooks and hooks on the block, "
                      "its attention norm → attention, cross-attention norm → cross-attention, MLP norm → MLP output",
            "syncOverheadMs": overhead,
        },
    }
    del model, inputs
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return result


def parse_layers(text):
    if text in ("all", "none"):
        return text
    return sorted({int(s) for s in text.split(",") if s.strip()})


def runs_from_result_file(path):
    """(name, config, batch, seq, warmup, iters, cache modes, layer selection) of each run in a tfjs-lens result file."""
    with open(path) as f:
        data = json.load(f)
    runs = data["runs"] if data.get("schema") == SUITE_SCHEMA else [data]
    out = []
    for r in runs:
        layers = sorted({int(b["name"].rsplit(".", 1)[1]) for b in r["blocks"]}) or "none"
        out.append((r["model"]["name"], r["model"]["config"], r["settings"]["batch"], r["settings"]["seq"],
                    r["settings"]["warmup"], r["settings"]["iters"], [c["mode"] for c in r["cache"]], layers))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="gpt2", help=f"comma list of {', '.join(MODEL_NAMES)}")
    parser.add_argument("--n-layers", type=int, default=None)
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--seq", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--cache", default="none", help="none | states | resid | all (comma list; states and resid are both HF's hidden states)")
    parser.add_argument("--layers", default="all", help="all | none | comma list of block indices")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--attn", default=None, help="attn_implementation (sdpa | eager); default: the transformers default")
    parser.add_argument("--from-result", default=None, help="repeat the runs of a tfjs-lens result file (model config, shape, cache modes, blocks)")
    parser.add_argument("--out", required=True, help="output JSON (a tfjs-lens-bench-suite/1 file)")
    args = parser.parse_args()

    torch.set_float32_matmul_precision("highest")  # no TF32 in matmuls
    try:
        torch.backends.cudnn.allow_tf32 = False  # nor in convolutions (Whisper's stem); deprecated after torch 2.9
    except (AttributeError, RuntimeError) as err:
        print(f"bench_hf: could not turn cuDNN TF32 off ({err})", file=sys.stderr)
    torch.manual_seed(args.seed)
    device = torch.device(args.device)

    if args.from_result:
        plans = runs_from_result_file(args.from_result)
    else:
        modes = [m.strip() for m in args.cache.split(",") if m.strip()]
        for m in modes:
            if m not in ("none", "states", "resid", "all"):
                raise SystemExit(f"--cache {m!r} is not none, states, resid or all")
        plans = [(name, bench_config(name, args.n_layers), args.batch, args.seq, args.warmup, args.iters, modes, parse_layers(args.layers))
                 for name in args.model.split(",")]

    runs = []
    for name, config_dict, batch, seq, warmup, iters, modes, layers in plans:
        print(f"bench_hf: {name} batch {batch} seq {seq} on {device} …", file=sys.stderr, flush=True)
        result = bench_one(name, config_dict, args, device, batch, seq, warmup, iters, modes, layers)
        f = result["forward"]
        print(f"  forward {f['ms']['median']:.2f} ms median, {f['tokensPerSecond']['median']:.0f} tokens/s", file=sys.stderr, flush=True)
        runs.append(result)
    suite = {"schema": SUITE_SCHEMA, "date": runs[0]["date"] if runs else "", "title": f"PyTorch reference on {device}", "runs": runs}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(suite, f, indent=2, allow_nan=False)
        f.write("\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
