"""CPU training recipe of the shipped tiny GPT-2 (weights/tiny-gpt2) in NumPy, with hand-written backward.

Why NumPy: the machine this project is developed on has 2 CPU cores, no GPU and no PyTorch. tfjs's wasm
backend is single-threaded in Node (~1k tokens/s for this model), while NumPy's OpenBLAS uses both cores
with AVX-512 (~90-180 GFLOP/s on these shapes), i.e. several times the tokens per second. The model is the
same GPT-2 that train.ts and train_torch.py build (4 layers, d_model 128, 4 heads, d_mlp 512, n_ctx 128,
gelu_new, tied embeddings) and is written in Hugging Face layout, loadable by `loadModel` and transformers.

    npm run build
    node dist/weights/train/encode.js --tokenizer weights/tiny-gpt2 --out /tmp/ids   # corpus -> uint16 ids
    python3 weights/train/train_numpy.py --ids /tmp/ids --out weights/tiny-gpt2 [--steps N ...]
    python3 weights/train/train_numpy.py --gradcheck                                  # float64 finite differences
    python3 weights/train/train_numpy.py --logits-of weights/tiny-gpt2 --token-ids 1,2,3  # parity with loadModel

Data: every training row is BOS followed by 128 tokens (or, with --bos-fraction < 1, some rows are 129 tokens
without BOS): a window of data/text/train.txt, or (with
--repeat-fraction) a corpus prefix followed by a span repeated to fill the row; spans are corpus text or
uniform random ids (--random-span-fraction). Repeats teach in-context copying, the induction-head circuit.
Every --eval-every steps it logs held-out loss (BOS + 128 held-out tokens, and 129 tokens without BOS; 32 rows),
the share of the BOS-first positions whose logit-lens top-1 after block L-2 is already final, and the best induction
and previous-token scores on [BOS, r_1..r_50, r_1..r_50] (10 rows, as `tfjs-lens demo` measures them).
"""
import argparse
import json
import math
import os
import struct
import time

import numpy as np

GELU_C = math.sqrt(2.0 / math.pi)


# ----------------------------------------------------------------------------------------------- model

def init_params(vocab, n_ctx, d_model, n_layers, d_mlp, rng, dtype):
    """HF GPT-2 initialisation: N(0, 0.02) weights, c_proj scaled by 1/sqrt(2 n_layers), zero biases, unit LN."""
    def normal(shape, std):
        return (rng.standard_normal(shape) * std).astype(dtype)

    p = {"wte.weight": normal((vocab, d_model), 0.02), "wpe.weight": normal((n_ctx, d_model), 0.02)}
    proj_std = 0.02 / math.sqrt(2 * n_layers)
    for i in range(n_layers):
        h = f"h.{i}."
        p[h + "ln_1.weight"] = np.ones(d_model, dtype)
        p[h + "ln_1.bias"] = np.zeros(d_model, dtype)
        p[h + "attn.c_attn.weight"] = normal((d_model, 3 * d_model), 0.02)
        p[h + "attn.c_attn.bias"] = np.zeros(3 * d_model, dtype)
        p[h + "attn.c_proj.weight"] = normal((d_model, d_model), proj_std)
        p[h + "attn.c_proj.bias"] = np.zeros(d_model, dtype)
        p[h + "ln_2.weight"] = np.ones(d_model, dtype)
        p[h + "ln_2.bias"] = np.zeros(d_model, dtype)
        p[h + "mlp.c_fc.weight"] = normal((d_model, d_mlp), 0.02)
        p[h + "mlp.c_fc.bias"] = np.zeros(d_mlp, dtype)
        p[h + "mlp.c_proj.weight"] = normal((d_mlp, d_model), proj_std)
        p[h + "mlp.c_proj.bias"] = np.zeros(d_model, dtype)
    p["ln_f.weight"] = np.ones(d_model, dtype)
    p["ln_f.bias"] = np.zeros(d_model, dtype)
    return p


def grow_params(params, factor, mode="split"):
    """Deepen a checkpoint by `factor`: block i becomes blocks i*factor ... i*factor+factor-1, copies of block i.
    mode "split": every copy's attention and MLP output projections (c_proj weight and bias) are divided by
    `factor`, so the copies together write what the block wrote, in `factor` smaller steps (to first order the
    same function; the residual stream moves gradually through the copies instead of at once).
    mode "zero": the first copy is the block itself and the others have zero output projections, which add
    nothing to the residual stream, so the grown model's logits equal the original's exactly at step 0.
    Training then lets the copies diverge."""
    if factor < 1:
        raise SystemExit(f"--grow-factor must be >= 1, got {factor}")
    old_layers = sum(1 for k in params if k.endswith("ln_1.weight"))
    grown = {k: v for k, v in params.items() if not k.startswith("h.")}
    for i in range(old_layers):
        block = {k[len(f"h.{i}."):]: v for k, v in params.items() if k.startswith(f"h.{i}.")}
        for c in range(factor):
            for name, value in block.items():
                copy = value.copy()
                if ".c_proj." in "." + name:
                    if mode == "split":
                        copy /= factor
                    elif c > 0:
                        copy[...] = 0
                grown[f"h.{i * factor + c}.{name}"] = copy
    return grown


def sinusoidal_positions(n_ctx, d_model):
    """[n_ctx, d_model] sin/cos of position at d_model/2 frequencies, scaled to 0.02 * sqrt(2) per coordinate
    (the rms of HF's N(0, 0.02) init)."""
    pos = np.arange(n_ctx)[:, None]
    freq = 1.0 / 10000 ** (np.arange(0, d_model, 2) / d_model)
    table = np.zeros((n_ctx, d_model))
    table[:, 0::2] = np.sin(pos * freq)
    table[:, 1::2] = np.cos(pos * freq)
    return (table * 0.02 * math.sqrt(2)).astype(np.float32)


def layer_norm(x, weight, bias, eps):
    """x [n, d] -> (y [n, d], cache)."""
    centred = x - x.mean(-1, keepdims=True)
    rstd = 1.0 / np.sqrt((centred * centred).mean(-1, keepdims=True) + eps)
    normed = centred * rstd
    return normed * weight + bias, (normed, rstd)


def layer_norm_backward(d_out, cache, weight):
    normed, rstd = cache
    d_weight = (d_out * normed).sum(0)
    d_bias = d_out.sum(0)
    d_normed = d_out * weight
    d_x = rstd * (d_normed - d_normed.mean(-1, keepdims=True) - normed * (d_normed * normed).mean(-1, keepdims=True))
    return d_x, d_weight, d_bias


def gelu_new(x):
    t = np.tanh(GELU_C * (x + 0.044715 * x * x * x))
    return 0.5 * x * (1.0 + t), t


def gelu_new_backward(d_out, x, t):
    """d_out * gelu_new'(x) = d_out * (0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2)), in place to save passes."""
    slope = x * x
    slope *= 3 * 0.044715 * GELU_C
    slope += GELU_C
    slope *= x
    slope *= 0.5
    one_minus_t2 = t * t
    np.subtract(1.0, one_minus_t2, out=one_minus_t2)
    slope *= one_minus_t2
    slope += 0.5
    slope += 0.5 * t
    slope *= d_out
    return slope


class Gpt2:
    def __init__(self, params, n_heads, eps=1e-5):
        self.p = params
        self.n_heads = n_heads
        self.eps = eps
        self.n_layers = sum(1 for k in params if k.endswith("ln_1.weight"))

    def forward(self, ids, targets=None, keep_patterns=False, keep_resid=None):
        """ids [batch, pos] -> (mean loss or None, logits [batch*pos, vocab], cache, patterns per layer).

        keep_resid: a list that receives every block's resid_post [batch*pos, d_model] (for the logit lens)."""
        p = self.p
        batch, pos = ids.shape
        d_model = p["wte.weight"].shape[1]
        heads, d_head = self.n_heads, d_model // self.n_heads
        scale = 1.0 / math.sqrt(d_head)
        resid = (p["wte.weight"][ids] + p["wpe.weight"][:pos]).reshape(batch * pos, d_model)
        causal = np.where(np.triu(np.ones((pos, pos), bool), 1), -np.inf, 0.0).astype(resid.dtype)
        layers, patterns = [], []
        for i in range(self.n_layers):
            h = f"h.{i}."
            ln1_out, ln1_cache = layer_norm(resid, p[h + "ln_1.weight"], p[h + "ln_1.bias"], self.eps)
            qkv = ln1_out @ p[h + "attn.c_attn.weight"] + p[h + "attn.c_attn.bias"]
            q, k, v = np.ascontiguousarray(qkv.reshape(batch, pos, 3, heads, d_head).transpose(2, 0, 3, 1, 4))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale
            scores += causal
            scores -= scores.max(-1, keepdims=True)
            pattern = np.exp(scores)
            pattern /= pattern.sum(-1, keepdims=True)
            z = (pattern @ v).transpose(0, 2, 1, 3).reshape(batch * pos, d_model)
            resid_mid = resid + z @ p[h + "attn.c_proj.weight"] + p[h + "attn.c_proj.bias"]
            ln2_out, ln2_cache = layer_norm(resid_mid, p[h + "ln_2.weight"], p[h + "ln_2.bias"], self.eps)
            pre = ln2_out @ p[h + "mlp.c_fc.weight"] + p[h + "mlp.c_fc.bias"]
            post, tanh_term = gelu_new(pre)
            resid_post = resid_mid + post @ p[h + "mlp.c_proj.weight"] + p[h + "mlp.c_proj.bias"]
            layers.append((ln1_out, ln1_cache, q, k, v, pattern, z, ln2_out, ln2_cache, pre, post, tanh_term))
            if keep_patterns:
                patterns.append(pattern)
            if keep_resid is not None:
                keep_resid.append(resid_post)
            resid = resid_post
        final, final_cache = layer_norm(resid, p["ln_f.weight"], p["ln_f.bias"], self.eps)
        logits = final @ p["wte.weight"].T
        loss = None
        if targets is not None:  # logits become the softmax in place (backward needs only that)
            logits -= logits.max(-1, keepdims=True)
            flat = targets.reshape(-1)
            target_logit = logits[np.arange(flat.size), flat]
            np.exp(logits, out=logits)
            sum_exp = logits.sum(-1)
            loss = float((np.log(sum_exp) - target_logit).mean())
            logits /= sum_exp[:, None]
        cache = (ids, layers, final, final_cache)
        return loss, logits, cache, patterns

    def backward(self, probs, targets, cache):
        """Gradients of the mean next-token cross-entropy (`probs`: forward's softmax, overwritten), keyed like the parameters."""
        p = self.p
        ids, layers, final, final_cache = cache
        batch, pos = ids.shape
        n = batch * pos
        d_model = p["wte.weight"].shape[1]
        heads, d_head = self.n_heads, d_model // self.n_heads
        scale = 1.0 / math.sqrt(d_head)
        grads = {}
        probs[np.arange(n), targets.reshape(-1)] -= 1.0
        probs /= n
        d_logits = probs
        d_wte = d_logits.T @ final
        d_final = d_logits @ p["wte.weight"]
        d_resid, grads["ln_f.weight"], grads["ln_f.bias"] = layer_norm_backward(d_final, final_cache, p["ln_f.weight"])
        for i in reversed(range(self.n_layers)):
            h = f"h.{i}."
            ln1_out, ln1_cache, q, k, v, pattern, z, ln2_out, ln2_cache, pre, post, tanh_term = layers[i]
            # MLP
            grads[h + "mlp.c_proj.weight"] = post.T @ d_resid
            grads[h + "mlp.c_proj.bias"] = d_resid.sum(0)
            d_pre = gelu_new_backward(d_resid @ p[h + "mlp.c_proj.weight"].T, pre, tanh_term)
            grads[h + "mlp.c_fc.weight"] = ln2_out.T @ d_pre
            grads[h + "mlp.c_fc.bias"] = d_pre.sum(0)
            d_ln2, grads[h + "ln_2.weight"], grads[h + "ln_2.bias"] = layer_norm_backward(d_pre @ p[h + "mlp.c_fc.weight"].T, ln2_cache, p[h + "ln_2.weight"])
            d_resid = d_resid + d_ln2
            # attention
            grads[h + "attn.c_proj.weight"] = z.T @ d_resid
            grads[h + "attn.c_proj.bias"] = d_resid.sum(0)
            d_z = (d_resid @ p[h + "attn.c_proj.weight"].T).reshape(batch, pos, heads, d_head).transpose(0, 2, 1, 3)
            d_pattern = d_z @ v.transpose(0, 1, 3, 2)
            d_v = pattern.transpose(0, 1, 3, 2) @ d_z
            d_scores = pattern * (d_pattern - (d_pattern * pattern).sum(-1, keepdims=True))
            d_scores *= scale
            d_q = d_scores @ k
            d_k = d_scores.transpose(0, 1, 3, 2) @ q
            d_qkv = np.stack([d_q, d_k, d_v]).transpose(1, 3, 0, 2, 4).reshape(n, 3 * d_model)
            grads[h + "attn.c_attn.weight"] = ln1_out.T @ d_qkv
            grads[h + "attn.c_attn.bias"] = d_qkv.sum(0)
            d_ln1, grads[h + "ln_1.weight"], grads[h + "ln_1.bias"] = layer_norm_backward(d_qkv @ p[h + "attn.c_attn.weight"].T, ln1_cache, p[h + "ln_1.weight"])
            d_resid = d_resid + d_ln1
        d_embed = d_resid.reshape(batch, pos, d_model)
        grads["wpe.weight"] = np.zeros_like(p["wpe.weight"])
        grads["wpe.weight"][:pos] = d_embed.sum(0)
        np.add.at(d_wte, ids.reshape(-1), d_resid)
        grads["wte.weight"] = d_wte
        return grads


# ------------------------------------------------------------------------------------------------ data

def sample_row(tokens, length, vocab, repeat_fraction, random_span_fraction, rng):
    """`length` tokens: a corpus window, or (with repeat_fraction) a corpus prefix + a span repeated to fill."""
    n = tokens.size
    if rng.random() >= repeat_fraction:
        start = rng.integers(n - length - 1)
        return tokens[start:start + length]
    hi = min(56, length // 2 + 1)  # spans of 4-55 tokens; short rows (a curriculum) use 2 .. length/2
    span_len = int(rng.integers(min(4, hi - 2), hi))
    if rng.random() < random_span_fraction:
        span = rng.integers(0, vocab - 1, span_len)  # any id but BOS
    else:
        start = rng.integers(n - span_len - 1)
        span = tokens[start:start + span_len]
    prefix_len = int(rng.integers(max(1, length - 2 * span_len)))
    start = rng.integers(n - prefix_len - 1)
    copies = -(-(length - prefix_len) // span_len)
    return np.concatenate([tokens[start:start + prefix_len], np.tile(span, copies)])[:length]


def make_batch(tokens, rows, length, vocab, bos, repeat_fraction, random_span_fraction, rng, bos_fraction=1.0):
    """int64 [rows, length + 1]: BOS then `length` tokens (inputs = [:, :-1], targets = [:, 1:]).

    With bos_fraction < 1, that share of rows is BOS-first and the others are `length + 1` tokens with no BOS
    (text that starts mid-document, as a user's prompt does when no BOS is prepended)."""
    out = np.empty((rows, length + 1), np.int64)
    out[:, 0] = bos
    for r in range(rows):
        if bos_fraction < 1.0 and rng.random() >= bos_fraction:
            out[r] = sample_row(tokens, length + 1, vocab, repeat_fraction, random_span_fraction, rng)
        else:
            out[r, 1:] = sample_row(tokens, length, vocab, repeat_fraction, random_span_fraction, rng)
    return out


def head_scores(model, vocab, bos, n_tokens=50, rows=10, seed=0):
    """Induction and previous-token score [n_layers, n_heads] on [BOS, r_1..r_N, r_1..r_N] (docs/methods.md §12)."""
    rng = np.random.default_rng(seed)
    rand = rng.integers(0, vocab, (rows, n_tokens))
    ids = np.concatenate([np.full((rows, 1), bos), rand, rand], 1)
    _, _, _, patterns = model.forward(ids, keep_patterns=True)
    q = np.arange(n_tokens + 1, 2 * n_tokens + 1)
    induction = np.stack([pat[:, :, q, q - n_tokens + 1].mean((0, 2)) for pat in patterns])
    qp = np.arange(1, 2 * n_tokens + 1)
    previous = np.stack([pat[:, :, qp, qp - 1].mean((0, 2)) for pat in patterns])
    return induction, previous


def lens_settled(model, rows, resids, final_scores):
    """Fraction of positions (after BOS) whose logit-lens top-1 after block L-2 is already the final top-1.

    That is `tfjs-lens demo`'s settling statistic: the top-1 saturation layer is below the last block.
    resids: every block's resid_post of `rows` (forward's keep_resid); final_scores: its logits or softmax."""
    p = model.p
    lens_in, _ = layer_norm(resids[-2], p["ln_f.weight"], p["ln_f.bias"], model.eps)
    early = (lens_in @ p["wte.weight"].T).argmax(-1)
    keep = np.ones(rows.shape, bool)
    keep[:, 0] = False  # the BOS position predicts the first token from nothing
    return float((early == final_scores.argmax(-1))[keep.reshape(-1)].mean())


# ----------------------------------------------------------------------------------------------- files

def save_safetensors(path, params, metadata):
    header = {"__metadata__": metadata}
    offset = 0
    blobs = []
    for name, value in params.items():
        data = np.ascontiguousarray(value, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(value.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)
    os.replace(tmp, path)


def load_safetensors(path):
    with open(path, "rb") as f:
        size = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(size))
        body = f.read()
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name} has dtype {info['dtype']}, expected F32")
        start, end = info["data_offsets"]
        out[name] = np.frombuffer(body[start:end], "<f4").reshape(info["shape"]).copy()
    return out


def hf_config(vocab, n_ctx, d_model, n_layers, n_heads, bos):
    return {
        "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "n_layer": n_layers, "n_embd": d_model,
        "n_head": n_heads, "n_inner": None, "n_positions": n_ctx, "vocab_size": vocab, "layer_norm_epsilon": 1e-5,
        "activation_function": "gelu_new", "scale_attn_weights": True, "scale_attn_by_inverse_layer_idx": False,
        "tie_word_embeddings": True, "bos_token_id": bos, "eos_token_id": bos, "attn_pdrop": 0, "embd_pdrop": 0,
        "resid_pdrop": 0,
    }


# ------------------------------------------------------------------------------------------- gradcheck

def gradcheck():
    """Compares the analytic gradients with central finite differences in float64 on a 2-layer toy."""
    rng = np.random.default_rng(0)
    params = init_params(vocab=11, n_ctx=8, d_model=8, n_layers=2, d_mlp=16, rng=rng, dtype=np.float64)
    for name in params:  # break the symmetric init (unit LN, zero biases) so every path has a gradient
        params[name] = params[name] + rng.standard_normal(params[name].shape) * 0.3
    model = Gpt2(params, n_heads=2)
    ids = rng.integers(0, 11, (3, 7))
    targets = rng.integers(0, 11, (3, 7))
    _, probs, cache, _ = model.forward(ids, targets)
    grads = model.backward(probs, targets, cache)
    worst = 0.0
    for name, value in params.items():
        numeric = np.zeros_like(value)
        flat, num_flat = value.reshape(-1), numeric.reshape(-1)
        for j in range(flat.size):
            saved = flat[j]
            flat[j] = saved + 1e-6
            up = model.forward(ids, targets)[0]
            flat[j] = saved - 1e-6
            down = model.forward(ids, targets)[0]
            flat[j] = saved
            num_flat[j] = (up - down) / 2e-6
        err = np.abs(numeric - grads[name]).max() / max(1e-8, np.abs(numeric).max())
        worst = max(worst, err)
        print(f"{name:28s} max rel err {err:.2e}")
    print(f"worst {worst:.2e}")
    if worst > 1e-5:
        raise SystemExit("gradcheck failed")


# ------------------------------------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ids", default="weights/train/ids", help="directory with train.ids / heldout.ids (encode.js)")
    ap.add_argument("--out", default="weights/tiny-gpt2")
    ap.add_argument("--init", default="", help="resume from this directory's model.safetensors + training-log.json")
    ap.add_argument("--grow-from", default="",
                    help="start from this directory's checkpoint made deeper: every block becomes --grow-factor consecutive "
                         "copies of itself (see --grow-mode); the log is kept")
    ap.add_argument("--grow-factor", type=int, default=2)
    ap.add_argument("--grow-mode", choices=["split", "zero"], default="split",
                    help="split: every copy keeps 1/factor of the block's output projections (attn.c_proj, mlp.c_proj, "
                         "weights and biases), so the copies together move the residual stream as far as the block did, in "
                         "factor steps; zero: the first copy is the block, the others have zero output projections (exactly "
                         "the same function at step 0)")
    ap.add_argument("--n-layers", type=int, default=4, help="blocks of a model trained from random init")
    ap.add_argument("--steps", type=int, default=6000)
    ap.add_argument("--stop-after", type=int, default=0, help="end after this many steps (the schedule still spans --steps)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq-len", type=int, default=128, help="tokens per row after BOS")
    ap.add_argument("--n-ctx", type=int, default=128, help="context length of the model (>= seq-len)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--min-lr-ratio", type=float, default=0.1)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--repeat-fraction", type=float, default=0.5)
    ap.add_argument("--random-span-fraction", type=float, default=0.5)
    ap.add_argument("--bos-fraction", type=float, default=1.0,
                    help="share of rows that start with BOS; the others are plain token windows (default: all BOS-first)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--pos-init", choices=["random", "sinusoidal"], default="random",
                    help="initial position embeddings: HF's N(0, 0.02), or sin/cos pairs (same per-coordinate size) "
                         "from which attention to a fixed offset (a previous-token head) is one linear map away")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--snapshots", default="", help="also keep every evaluated checkpoint as DIR/step-N.safetensors")
    ap.add_argument("--gradcheck", action="store_true")
    ap.add_argument("--logits-of", default="", help="print (JSON) the last-position logits of this checkpoint for --token-ids")
    ap.add_argument("--token-ids", default="", help="comma-separated ids for --logits-of")
    args = ap.parse_args()
    if args.gradcheck:
        gradcheck()
        return
    if args.logits_of:
        cfg = json.load(open(os.path.join(args.logits_of, "config.json")))
        model = Gpt2(load_safetensors(os.path.join(args.logits_of, "model.safetensors")), cfg["n_head"], cfg["layer_norm_epsilon"])
        ids = np.array([[int(t) for t in args.token_ids.split(",")]])
        print(json.dumps(model.forward(ids)[1][-1].tolist()))
        return

    tok_cfg = json.load(open(os.path.join(args.out, "tokenizer.json")))
    vocab = 1 + max(max(tok_cfg["model"]["vocab"].values()), max(t["id"] for t in tok_cfg["added_tokens"]))
    bos = next(t["id"] for t in tok_cfg["added_tokens"] if t["content"] == "<|endoftext|>")
    train = np.fromfile(os.path.join(args.ids, "train.ids"), "<u2").astype(np.int64)
    heldout = np.fromfile(os.path.join(args.ids, "heldout.ids"), "<u2").astype(np.int64)
    if train.max() >= vocab or heldout.max() >= vocab:
        raise SystemExit(f"token ids exceed the vocabulary of {vocab}: re-run encode.js with this tokenizer")
    n_ctx, d_model, n_layers, n_heads, d_mlp = args.n_ctx, 128, args.n_layers, 4, 512
    if args.init and args.grow_from:
        raise SystemExit("--init and --grow-from exclude each other")
    if args.seq_len > n_ctx:
        raise SystemExit(f"--seq-len {args.seq_len} exceeds --n-ctx {n_ctx}")
    print(f"train tokens {train.size}, held-out tokens {heldout.size}, vocab {vocab}, bos {bos}", flush=True)

    rng = np.random.default_rng(args.seed)
    log, runs, start_step, offset_s = [], [], 0, 0.0
    if args.init or args.grow_from:
        start_dir = args.init or args.grow_from
        params = load_safetensors(os.path.join(start_dir, "model.safetensors"))
        if args.grow_from:
            params = grow_params(params, args.grow_factor, args.grow_mode)
        prev = json.load(open(os.path.join(start_dir, "training-log.json")))
        log = prev["log"]
        runs = prev["options"].get("runs", [prev["options"]])
        start_step = log[-1]["step"] if log else 0
        offset_s = log[-1]["seconds"] if log else 0.0
        rng = np.random.default_rng([args.seed, start_step])
    else:
        params = init_params(vocab, n_ctx, d_model, n_layers, d_mlp, rng, np.float32)
        if args.pos_init == "sinusoidal":
            params["wpe.weight"] = sinusoidal_positions(n_ctx, d_model)
    model = Gpt2(params, n_heads)
    n_layers = model.n_layers
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v2 = {k: np.zeros_like(v) for k, v in params.items()}
    decay = {k for k, v in params.items() if v.ndim == 2}
    held = make_batch(heldout, 32, args.seq_len, vocab, bos, 0.0, 0.0, np.random.default_rng(args.seed + 1))
    held_plain = make_batch(heldout, 32, args.seq_len, vocab, bos, 0.0, 0.0, np.random.default_rng(args.seed + 1), 0.0)
    camel = lambda name: name.split("_")[0] + "".join(w.title() for w in name.split("_")[1:])  # noqa: E731
    opts = {camel(k): v for k, v in vars(args).items() if k != "gradcheck"}
    opts["trainer"] = "numpy (weights/train/train_numpy.py)"
    opts["startStep"] = start_step
    runs = runs + [opts]
    started = time.time()
    last = args.stop_after if args.stop_after > 0 else args.steps
    beta1, beta2, eps = 0.9, 0.95, 1e-8
    for local in range(1, last + 1):
        step = start_step + local
        progress = local / args.steps
        lr = args.lr * local / args.warmup if local < args.warmup else \
            args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))
        batch = make_batch(train, args.batch, args.seq_len, vocab, bos, args.repeat_fraction, args.random_span_fraction, rng, args.bos_fraction)
        inputs, targets = batch[:, :-1], batch[:, 1:]
        loss, probs, cache, _ = model.forward(inputs, targets)
        grads = model.backward(probs, targets, cache)
        del probs, cache
        norm = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
        clip = min(1.0, 1.0 / (norm + 1e-6))
        for k, g in grads.items():
            if clip < 1.0:
                g *= clip
            m[k] *= beta1
            m[k] += (1 - beta1) * g
            v2[k] *= beta2
            v2[k] += (1 - beta2) * g * g
            mhat = m[k] / (1 - beta1 ** local)
            vhat = v2[k] / (1 - beta2 ** local)
            if k in decay and args.weight_decay > 0:
                params[k] *= 1 - lr * args.weight_decay
            params[k] -= (lr * mhat / (np.sqrt(vhat) + eps)).astype(np.float32)
        entry = {"step": step, "loss": loss, "seconds": offset_s + time.time() - started}
        if step % args.eval_every == 0 or local == last:
            resids = []
            entry["heldout"], held_probs, _, _ = model.forward(held[:, :-1], held[:, 1:], keep_resid=resids)
            entry["heldoutNoBos"] = model.forward(held_plain[:, :-1], held_plain[:, 1:])[0]
            induction, previous = head_scores(model, vocab, bos)
            entry["induction"] = float(induction.max())
            entry["previousToken"] = float(previous.max())
            entry["lensSettled"] = lens_settled(model, held[:, :-1], resids, held_probs)
            del resids, held_probs
            li, hi = np.unravel_index(induction.argmax(), induction.shape)
            print(f"step {step} loss {loss:.3f} heldout {entry['heldout']:.3f} (no BOS {entry['heldoutNoBos']:.3f}) induction {entry['induction']:.3f} (L{li}H{hi}) "
                  f"prev {entry['previousToken']:.3f} lens {entry['lensSettled']:.2f} lr {lr:.2e} |g| {norm:.2f} ({entry['seconds']:.0f} s)", flush=True)
        elif step % 50 == 0:
            print(f"step {step} loss {loss:.3f} ({entry['seconds']:.0f} s)", flush=True)
        log.append(entry)
        if step % args.eval_every == 0 or local == last:
            os.makedirs(args.out, exist_ok=True)
            save_safetensors(os.path.join(args.out, "model.safetensors"), params, {"format": "pt", "trained_steps": str(step), "seed": str(args.seed)})
            if args.snapshots:
                os.makedirs(args.snapshots, exist_ok=True)
                save_safetensors(os.path.join(args.snapshots, f"step-{step}.safetensors"), params, {"format": "pt", "trained_steps": str(step)})
            with open(os.path.join(args.out, "config.json"), "w") as f:
                json.dump(hf_config(vocab, n_ctx, d_model, n_layers, n_heads, bos), f, indent=2)
                f.write("\n")
            with open(os.path.join(args.out, "training-log.json"), "w") as f:
                json.dump({"options": {**opts, "runs": runs}, "log": log}, f, indent=1)
                f.write("\n")


if __name__ == "__main__":
    main()
