#!/usr/bin/python3
"""Reference merges and encodings for module 10's byte-level BPE, from a plain-Python BPE.

The same algorithm as tinytorch/src/text/bpe.cpp, written the slow, obvious way, so the tests can
compare the C++ (incremental pair counts, a lazy heap, rank-based encoding) with it:

  * pre-tokenization by the regular expression below (GPT-2's pattern, ASCII classes; bytes
    >= 0x80 count as letters), chunks longer than 256 bytes cut into 256-byte pieces;
  * training recounts every pair from scratch at every step and takes the most frequent pair,
    ties to the smallest (left, right); it stops when the best count is below 2;
  * encoding applies the merges one after another in training order to each chunk (the
    definition), where the C++ repeatedly merges the lowest-ranked pair present (the fast way);
  * special tokens are cut out first, leftmost, longest at the same position.

No PyTorch involved (PyTorch has no tokenizer); GPT-2's tokenizer is not used either, because its
regex classes are Unicode-aware and its vocabulary is not trained on these corpora.
Byte strings are stored as hexadecimal.

    /usr/bin/python3 tools/reference/gen_module10.py [--check]
"""
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import command_line, one_case_per_line, write_or_check  # noqa: E402

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                   "tests", "data", "module10_bpe_reference.json"))
MAX_CHUNK = 256
PATTERN = re.compile(
    rb" ?[A-Za-z\x80-\xff]+| ?[0-9]+| ?[^\sA-Za-z0-9\x80-\xff]+|\s+(?!\S)|\s+")


def chunks(text):
    out = []
    for m in PATTERN.finditer(text):
        piece = m.group(0)
        out += [piece[i:i + MAX_CHUNK] for i in range(0, len(piece), MAX_CHUNK)]
    assert b"".join(out) == text
    return out


def split_specials(text, specials):
    """[(is_special, bytes)] in order."""
    out, pos = [], 0
    while pos < len(text):
        found = [(text.find(s, pos), -len(s), i) for i, s in enumerate(specials)]
        found = [f for f in found if f[0] >= 0]
        if not found:
            break
        at, _, i = min(found)
        if at > pos:
            out.append((False, text[pos:at]))
        out.append((True, i))
        pos = at + len(specials[i])
    if pos < len(text):
        out.append((False, text[pos:]))
    return out


def merge(ids, pair, new):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train(corpus, vocab_size, specials):
    counts = {}
    for is_special, piece in split_specials(corpus, specials):
        if not is_special:
            for c in chunks(piece):
                counts[c] = counts.get(c, 0) + 1
    words = {c: list(c) for c in counts}
    merges = []
    while len(merges) < vocab_size - 256 - len(specials):
        pairs = {}
        for c, n in counts.items():
            ids = words[c]
            for p in zip(ids, ids[1:]):
                pairs[p] = pairs.get(p, 0) + n
        if not pairs:
            break
        best = min(pairs, key=lambda p: (-pairs[p], p))
        if pairs[best] < 2:
            break
        new = 256 + len(merges)
        words = {c: merge(ids, best, new) for c, ids in words.items()}
        merges.append(best)
    return merges


def encode(text, merges, specials):
    ids = []
    for is_special, piece in split_specials(text, specials):
        if is_special:
            ids.append(256 + len(merges) + piece)
            continue
        for c in chunks(piece):
            cid = list(c)
            for i, pair in enumerate(merges):
                cid = merge(cid, pair, 256 + i)
            ids += cid
    return ids


def word_soup(seed, n_words):
    """A deterministic corpus: words drawn with Zipf-like weights, punctuation, digits, lines."""
    rng = random.Random(seed)
    vocab = ("the of and to a in is it you that he was for on are with as I his they be at one "
             "have this from or had by hot word but what some we can out other were all there "
             "when up use your how said an each she which do their time if will way about many "
             "then them write would like so these her long make thing see him two has look more "
             "day could go come did number sound no most people my over know water than call "
             "first who may down side been now find").split()
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    out = []
    for i in range(n_words):
        w = rng.choices(vocab, weights)[0]
        if rng.random() < 0.08:
            w = w.capitalize()
        out.append(w)
        r = rng.random()
        out.append(", " if r < 0.06 else ". " if r < 0.1 else "\n" if r < 0.13 else
                   " " + str(rng.randrange(2000)) + " " if r < 0.15 else " ")
    return "".join(out).encode()


CASES = []


def case(name, corpus, vocab_size, specials, texts):
    merges = train(corpus, vocab_size, specials)
    CASES.append({
        "name": name,
        "corpus_hex": corpus.hex(),
        "vocab_size": vocab_size,
        "special_tokens_hex": [s.hex() for s in specials],
        "merges": [list(p) for p in merges],
        "encodings": [{"text_hex": t.hex(), "ids": encode(t, merges, specials)} for t in texts],
    })


# Wikipedia's example: aa -> 256, then the tie (256, a) / (a, b) goes to the smaller (97, 98).
case("wikipedia_aaabdaaabac", b"aaabdaaabac", 300, [], [b"aaabdaaabac", b"aaaa", b"abab", b"dc"])
# Overlapping runs: "aaaa" counts (a, a) three times.
case("runs", b"aaaa aaa aa a aaaa", 270, [], [b"aaaaaaa", b" aaaa", b"aaa aaa"])
# Special tokens: never merged, never split, longest match at the same position.
EOT = b"<|endoftext|>"
case("specials",
     b"hello world<|endoftext|>hello there<|end|>world hello<|endoftext|><|endoftext|>hello",
     280, [EOT, b"<|end|>"],
     [b"hello<|endoftext|>world", b"<|end|><|endoftext|>", b"<|endof", b"hello <|end|>x"])
# Pre-tokenization: whitespace runs, digits, symbols, UTF-8, tabs, CR LF.
case("mixed_bytes",
     "Caf\u00e9 na\u00efve  r\u00e9sum\u00e9 -- 2024-11-23\t\tx\r\n\r\n  (ok) 1234567 !!! "
     "caf\u00e9 na\u00efve r\u00e9sum\u00e9 2024\n".encode() * 3, 330, [],
     ["caf\u00e9  --\t(ok)\r\n 123".encode(), b"\xff\xfe\x00\x80 abc", b"   \n\n x"])
# A larger corpus: a few hundred merges, compared merge by merge.
SOUP = word_soup(10, 6000)
case("word_soup_512", SOUP, 512, [b"<|endoftext|>"],
     [SOUP[:2000], b"The people who write their water.<|endoftext|>Number 42!", bytes(range(256))])

CHUNK_TEXTS = [b"Hello, world!  It's 2024...\n\n  ok\tgo \r\n", b"a" * 600 + b" b",
               "na\u00efve\u00a0x  \x0b\x0cy".encode(), b""]
DOC = {"generator": "tools/reference/" + os.path.basename(__file__), "format": 1,
       "chunks": [{"text_hex": t.hex(), "chunks_hex": [c.hex() for c in chunks(t)]}
                  for t in CHUNK_TEXTS],
       "cases": CASES}

if __name__ == "__main__":
    opts = command_line(__doc__, OUT)
    sys.exit(write_or_check(opts.out, one_case_per_line(DOC), opts.check,
                            f"{len(CASES)} cases"))
