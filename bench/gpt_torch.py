#!/usr/bin/env python3
"""PyTorch's side of `./tito bench gpt` (bench/gpt_bench.cpp runs it), and the PyTorch yardstick
of milestone 2017's recipe (--train).

The model is a character-level GPT as nn::GPT builds it (module 13): token and learned position
embeddings, n_layer pre-LN blocks (x + attn(ln_1(x)); x + mlp(ln_2(x))), a final LayerNorm and an
untied bias-free head; c_attn Linear(d, 3d), c_proj Linear(d, d), MLP Linear(d, 4d) -> exact GELU
-> Linear(4d, d); Linear/Embedding weights N(0, 0.02), biases zero, no dropout. --config picks its
size (CONFIGS, as bench/gpt_bench.cpp's kConfigs): 2017 (the default) is milestone 2017's, n_layer
4, n_head 4, d 128, context 64, batch 32; 256 is n_layer 4, n_head 4, d 256, context 128, batch 16,
training only.

Attention is written out by hand (PyTorch 1.13 has no F.scaled_dot_product_attention) in the
fastest plain-PyTorch form measured here: one batched matmul for the scores with the causal mask
added by baddbmm (a float mask of 0 / -inf), softmax, one batched matmul with V.

Benchmark (the default), timed as bench/gpt_bench.cpp times ours:
  * training: AdamW (lr 3e-4, PyTorch's other defaults), a batch of random windows of the context's
    length from the token stream; zero_grad -> forward -> cross_entropy -> backward -> step ->
    loss.item(), each timed step on its own after warm-up steps; tokens/s = batch * context / the
    median step's seconds (the step's FLOPs and their fraction of the FMA peak are added by
    gpt_bench);
  * generation (2017 only): greedy, batch 1, 63 new tokens after a 1-token prompt (the whole
    context), under
    torch.inference_mode, without a cache (each token re-runs the whole sequence) and with a
    KV cache written the standard way (each layer's K and V of the tokens so far, the new step's
    appended with torch.cat, as Hugging Face's past_key_values); tokens/s = 63 / seconds, the
    median of several generations. Both must give the same tokens (checked, and reported);
  * the peak resident memory of this process.

Mixed precision (--precision, `./tito bench amp`): the training step's forward and loss run under
torch.autocast("cpu", dtype=torch.bfloat16) with --precision bf16-autocast (PyTorch 1.13's CPU
autocast: Linear and the batched matmuls in bfloat16, cross_entropy in float32), the backward and
the optimizer step outside it, as PyTorch's recipe has it; --precision float32 is the plain step.
Either way the run trains only (no generation) and adds the memory of one more, untimed, training
step, read from torch.profiler's memory events (profile_memory=True: every allocation and free of
PyTorch's CPU allocator, with its size and time), grads set to None first as ours:
  * activation_bytes: bytes allocated minus bytes freed over the forward and the loss — what the
    graph keeps for the backward (ours: the allocator's live bytes after the forward minus
    before);
  * step_peak_bytes: the highest running sum of those events over the forward and the backward,
    above what was live before the step (ours: the allocator's peak minus the live bytes before);
  * parameter_bytes, gradient_bytes, optimizer_state_bytes: the tensors' own sizes.
The profiler sees only PyTorch's allocator: scratch memory OpenBLAS or oneDNN take for themselves
is not in these figures (nor is our kernels' packing scratch in ours).

The token stream: the text of --corpus FILE (gpt_bench writes the training split of the fortunes
corpus there, as its own side reads it), else the fortunes files read here; characters are
tokenised as CharTokenizer does (the vocabulary is the sorted distinct bytes).

  /usr/bin/python3 bench/gpt_torch.py --threads 1 [--config 2017|256] [--quick] [--corpus FILE]
                                      [--precision float32|bf16-autocast]
  /usr/bin/python3 bench/gpt_torch.py --describe      (the configuration only)
  /usr/bin/python3 bench/gpt_torch.py --train --threads 1 --steps 5000 --lr 2e-3 ...
      (milestone 2017's recipe: warm-up + cosine AdamW, gradient clipping, periodic evaluation of
      the train and validation loss on fixed batches; prints one JSON object at the end)
"""
import argparse
import contextlib
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_bench_common import configuration, peak_rss_bytes

FORTUNES_DIR = "/usr/share/games/fortunes"
BATCH, CONTEXT = 32, 64
N_LAYER, N_HEAD, N_EMBD = 4, 4, 128
BENCH_LR = 3e-4

# The models of the benchmark, as bench/gpt_bench.cpp's kConfigs: the model's sizes, and the
# workload (batch, warm-up steps, timed steps, timed generations; 0: no generation) of a full and
# of a --quick run. --train uses milestone 2017's model (the constants above).
CONFIGS = {
    "2017": {"context": CONTEXT, "n_layer": N_LAYER, "n_head": N_HEAD, "d": N_EMBD,
             "full": (BATCH, 10, 40, 15), "quick": (BATCH, 3, 5, 2)},
    "256": {"context": 128, "n_layer": 4, "n_head": 4, "d": 256,
            "full": (16, 3, 15, 0), "quick": (4, 1, 2, 0)},
}


# ---- data --------------------------------------------------------------------------------------

def load_fortunes(directory):
    """data::load_fortunes: every fortune file of the directory (regular files, not their .dat
    indexes or .u8 links), in name order, each ending its last record with "%\n"."""
    names = sorted(n for n in os.listdir(directory)
                   if not n.endswith((".dat", ".u8"))
                   and os.path.isfile(os.path.join(directory, n))
                   and not os.path.islink(os.path.join(directory, n)))
    if not names:
        sys.exit(f"{directory}: no fortune files (sudo apt-get install -y fortunes fortunes-min)")
    corpus = b""
    for name in names:
        text = open(os.path.join(directory, name), "rb").read()
        if not text:
            continue
        if not text.endswith(b"%\n"):
            text += b"%\n" if text.endswith(b"\n") else b"\n%\n"
        corpus += text
    return corpus


def split_text(corpus, validation_fraction=0.1):
    """data::split_text: the corpus cut into records after each "\n%\n"; record r goes to
    validation when floor((r + 1) f) > floor(r f) — every tenth fortune for f = 0.1."""
    train, val = [], []
    start, record = 0, 0
    while start < len(corpus):
        found = corpus.find(b"\n%\n", start)
        end = len(corpus) if found < 0 else found + 3
        to_val = math.floor((record + 1) * validation_fraction) > math.floor(record * validation_fraction)
        (val if to_val else train).append(corpus[start:end])
        start, record = end, record + 1
    return b"".join(train), b"".join(val)


class CharVocab:
    """CharTokenizer's vocabulary: the sorted distinct bytes of a text."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.index = torch.full((256,), -1, dtype=torch.long)
        self.index[torch.tensor(self.chars)] = torch.arange(len(self.chars))

    def encode(self, text):
        ids = self.index[torch.frombuffer(bytearray(text), dtype=torch.uint8).long()]
        if (ids < 0).any():
            sys.exit("the text has a byte the vocabulary lacks")
        return ids

    def decode(self, ids):
        return bytes(self.chars[i] for i in ids).decode("utf-8", errors="replace")


def random_windows(tokens, batch, context, generator):
    """x, y int64 [batch, context]: windows at random starts, y = x shifted by one."""
    starts = torch.randint(0, tokens.numel() - context, (batch,), generator=generator)
    offsets = torch.arange(context + 1)
    rows = tokens[starts[:, None] + offsets[None, :]]
    return rows[:, :-1].contiguous(), rows[:, 1:].contiguous()


# ---- the model ---------------------------------------------------------------------------------

class CausalSelfAttention(nn.Module):
    def __init__(self, d, n_head):
        super().__init__()
        self.n_head = n_head
        self.c_attn = nn.Linear(d, 3 * d)
        self.c_proj = nn.Linear(d, d)

    def forward(self, x, mask, cache=None):
        B, T, C = x.shape
        H, hd = self.n_head, C // self.n_head
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, H, hd).transpose(1, 2) for t in (q, k, v))  # [B, H, T, hd]
        if cache is not None:  # (K, V) of the earlier positions, [B, H, S, hd] each, or None
            if cache[0] is not None:
                k = torch.cat((cache[0], k), dim=2)
                v = torch.cat((cache[1], v), dim=2)
            cache[0], cache[1] = k, v
        S = k.shape[2]
        # scores [B*H, T, S] = mask + q k^T / sqrt(hd), in one baddbmm
        scores = torch.baddbmm(mask, q.reshape(B * H, T, hd), k.reshape(B * H, S, hd).transpose(1, 2),
                               alpha=1.0 / math.sqrt(hd))
        y = torch.bmm(scores.softmax(dim=-1), v.reshape(B * H, S, hd))  # [B*H, T, hd]
        return self.c_proj(y.view(B, H, T, hd).transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, d, n_head):
        super().__init__()
        self.ln_1 = nn.LayerNorm(d)
        self.attn = CausalSelfAttention(d, n_head)
        self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, mask, cache=None):
        x = x + self.attn(self.ln_1(x), mask, cache)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size=CONTEXT, n_layer=N_LAYER, n_head=N_HEAD, d=N_EMBD):
        super().__init__()
        self.block_size = block_size
        self.wte = nn.Embedding(vocab_size, d)
        self.wpe = nn.Embedding(block_size, d)
        self.h = nn.ModuleList(Block(d, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, vocab_size, bias=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
            if isinstance(m, nn.Linear) and m.bias is not None:
                nn.init.zeros_(m.bias)
        # The additive causal mask of the whole context: 0 on and below the diagonal, -inf above.
        self.register_buffer(
            "causal", torch.full((block_size, block_size), float("-inf")).triu(1), persistent=False)

    def forward(self, idx, caches=None):
        """idx [B, T] -> logits [B, T, V]. With caches (one [K, V] list per layer), idx holds the
        positions after the cached ones."""
        B, T = idx.shape
        past = 0 if caches is None or caches[0][0] is None else caches[0][0].shape[2]
        pos = torch.arange(past, past + T)
        x = self.wte(idx) + self.wpe(pos)
        # The last T rows of the causal mask over past + T positions (bottom-right aligned).
        mask = self.causal[past : past + T, : past + T]
        for i, block in enumerate(self.h):
            x = block(x, mask, None if caches is None else caches[i])
        return self.lm_head(self.ln_f(x))


def loss_of(model, x, y):
    logits = model(x)
    return F.cross_entropy(logits.view(-1, logits.shape[-1]), y.view(-1))


@torch.inference_mode()
def generate(model, prompt, new_tokens, use_cache):
    """Greedy decoding: prompt [1, T0] -> [1, T0 + new_tokens] (with the cache, T0 + new_tokens
    must fit in the context; without, the last block_size tokens are the input)."""
    idx = prompt
    caches = [[None, None] for _ in model.h] if use_cache else None
    step_input = idx
    for _ in range(new_tokens):
        logits = model(step_input if use_cache else idx[:, -model.block_size :], caches)
        nxt = logits[:, -1, :].argmax(dim=-1, keepdim=True)
        idx = torch.cat((idx, nxt), dim=1)
        step_input = nxt
    return idx


# ---- the two uses ------------------------------------------------------------------------------

def token_stream(args):
    """(the vocabulary of the whole corpus, as milestone 2017 trains its tokenizer; the training
    text; the validation text, None with --corpus)."""
    if args.corpus:
        train = open(args.corpus, "rb").read()
        return CharVocab(train), train, None
    corpus = load_fortunes(args.fortunes)
    train, val = split_text(corpus)
    return CharVocab(corpus), train, val


def autocast_region(precision):
    """The region the forward and the loss run in: PyTorch's CPU autocast to bfloat16 for
    bf16-autocast, nothing for float32."""
    if precision == "bf16-autocast":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def memory_events_bytes(prof):
    """The sizes of the allocations (> 0) and frees (< 0) of PyTorch's CPU allocator that `prof`
    (profile_memory=True) recorded, in the order they happened."""
    events = [e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    events.sort(key=lambda e: e.start_us())  # stable: events of the same microsecond keep order
    return [e.nbytes() for e in events]


def step_memory(model, optimizer, precision, x, y):
    """One more training step, untimed, under the profiler: its memory figures (module doc)."""
    from torch.profiler import ProfilerActivity, profile
    optimizer.zero_grad(set_to_none=True)
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as forward:
        with autocast_region(precision):
            loss = loss_of(model, x, y)
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as backward:
        loss.backward()
    activations = sum(memory_events_bytes(forward))
    live, peak = 0, 0
    for nbytes in memory_events_bytes(forward) + memory_events_bytes(backward):
        live += nbytes
        peak = max(peak, live)
    params = list(model.parameters())
    optimizer.step()
    state = sum(t.numel() * t.element_size() for s in optimizer.state.values()
                for t in s.values() if torch.is_tensor(t))
    return {"activation_bytes": activations, "step_peak_bytes": peak,
            "parameter_bytes": sum(p.numel() * p.element_size() for p in params),
            "gradient_bytes": sum(p.grad.numel() * p.grad.element_size() for p in params
                                  if p.grad is not None),
            "optimizer_state_bytes": state}


def bench(args):
    vocab, train_text, _ = token_stream(args)
    tokens = vocab.encode(train_text)
    config = CONFIGS[args.config]
    context = config["context"]
    batch, warmup, count, repeats = config["quick" if args.quick else "full"]
    precision = args.precision or "float32"
    if args.precision:
        repeats = 0  # the mixed-precision runs train only
    torch.manual_seed(0)
    model = GPT(len(vocab.chars), block_size=context, n_layer=config["n_layer"],
                n_head=config["n_head"], d=config["d"])
    optimizer = torch.optim.AdamW(model.parameters(), lr=BENCH_LR)
    gen = torch.Generator().manual_seed(2017)

    def step():
        x, y = random_windows(tokens, batch, context, gen)
        optimizer.zero_grad(set_to_none=True)
        with autocast_region(precision):
            loss = loss_of(model, x, y)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(warmup):
        step()
    losses, step_seconds = [], []
    for _ in range(count):
        t0 = time.perf_counter()
        losses.append(step())
        step_seconds.append(time.perf_counter() - t0)

    # Greedy generation from the trained model, batch 1, from the first token of the stream,
    # filling the context.
    result = {}
    if args.precision:
        result["precision"] = precision
        result.update(step_memory(model, optimizer, precision,
                                  *random_windows(tokens, batch, context, gen)))
    if repeats > 0:
        model.eval()
        prompt = tokens[:1].view(1, 1)
        new_tokens = context - 1
        outputs = {}
        for mode, use_cache in (("nocache", False), ("cache", True)):
            generate(model, prompt, new_tokens, use_cache)  # warm-up
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                out = generate(model, prompt, new_tokens, use_cache)
                times.append(time.perf_counter() - t0)
            outputs[mode] = out[0].tolist()
            result[f"generate_{mode}_tokens_per_second"] = new_tokens / statistics.median(times)
        result.update({"new_tokens": new_tokens,
                       "cache_matches_nocache": outputs["cache"] == outputs["nocache"],
                       "generated": vocab.decode(outputs["cache"])})
    print(json.dumps({
        "impl": "torch",
        "threads": torch.get_num_threads(),
        "train_tokens_per_second": batch * context / statistics.median(step_seconds),
        "train_steps": count,
        "train_seconds": sum(step_seconds),
        "train_step_seconds": statistics.median(step_seconds),
        "mean_loss": sum(losses) / len(losses),
        "vocab_size": len(vocab.chars),
        **result,
        "peak_rss_bytes": peak_rss_bytes(),
        **configuration(),
    }))


def lr_at(step, args):
    """Linear warm-up from lr/warmup to lr over --warmup steps, then cosine decay to --min-lr at
    --steps (milestone 2017's schedule)."""
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    progress = (step - args.warmup) / max(1, args.steps - args.warmup)
    return args.min_lr + 0.5 * (args.lr - args.min_lr) * (1.0 + math.cos(math.pi * progress))


@torch.no_grad()
def evaluate(model, batches):
    model.eval()
    loss = sum(loss_of(model, x, y).item() for x, y in batches) / len(batches)
    model.train()
    return loss


def train(args):
    vocab, train_text, val_text = token_stream(args)
    if val_text is None:
        sys.exit("--train reads the fortunes corpus itself (no --corpus)")
    train_tokens, val_tokens = vocab.encode(train_text), vocab.encode(val_text)
    torch.manual_seed(args.seed)
    model = GPT(len(vocab.chars))
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, args.beta2),
                                  weight_decay=args.weight_decay)
    gen = torch.Generator().manual_seed(args.seed)
    fixed = torch.Generator().manual_seed(1)
    train_eval = [random_windows(train_tokens, args.batch_size, CONTEXT, fixed)
                  for _ in range(args.eval_batches)]
    val_eval = [random_windows(val_tokens, args.batch_size, CONTEXT, fixed)
                for _ in range(args.eval_batches)]
    history = []
    start = time.perf_counter()
    for step in range(args.steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, args)
        x, y = random_windows(train_tokens, args.batch_size, CONTEXT, gen)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(model, x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            entry = {"step": step + 1, "seconds": time.perf_counter() - start,
                     "train_loss": evaluate(model, train_eval),
                     "val_loss": evaluate(model, val_eval)}
            history.append(entry)
            print(json.dumps(entry), file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start
    model.eval()
    sample = generate(model, val_tokens[:1].view(1, 1), 200, False)[0].tolist()
    print(json.dumps({
        "impl": "torch", "threads": torch.get_num_threads(), "seed": args.seed,
        "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "min_lr": args.min_lr,
        "warmup": args.warmup, "beta2": args.beta2, "weight_decay": args.weight_decay,
        "clip": args.clip, "seconds": seconds,
        "tokens_per_second": args.steps * args.batch_size * CONTEXT / seconds,
        "final_val_loss": history[-1]["val_loss"], "history": history,
        "sample": vocab.decode(sample), "peak_rss_bytes": peak_rss_bytes(), **configuration()}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--config", choices=sorted(CONFIGS), default="2017",
                        help="the model benchmarked (default: milestone 2017's)")
    parser.add_argument("--corpus", help="the training text (gpt_bench writes it)")
    parser.add_argument("--precision", choices=("float32", "bf16-autocast"),
                        help="train only, at this precision, and add the step's memory figures")
    parser.add_argument("--fortunes", default=FORTUNES_DIR)
    parser.add_argument("--describe", action="store_true",
                        help="print PyTorch's configuration as JSON and exit")
    parser.add_argument("--train", action="store_true", help="train with milestone 2017's recipe")
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--batch-size", type=int, default=BATCH)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--min-lr", type=float, default=1e-4)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--beta2", type=float, default=0.99)
    parser.add_argument("--weight-decay", type=float, default=0.1)
    parser.add_argument("--clip", type=float, default=1.0)
    parser.add_argument("--eval-every", type=int, default=500)
    parser.add_argument("--eval-batches", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2017)
    args = parser.parse_args()
    if args.describe:
        print(json.dumps(configuration()))
        return
    if args.threads is None or args.threads < 1:
        sys.exit("--threads (at least 1) is required")
    torch.set_num_threads(args.threads)
    train(args) if args.train else bench(args)


if __name__ == "__main__":
    main()
