#!/usr/bin/python3
"""Reference values for module 08's Fashion-MNIST tests, read with Python's gzip module only.

Reads Debian's dataset-fashion-mnist files independently of TinyTorch's IDX reader and writes
tests/data/module08_fashion_mnist.json: per split the header, the first 32 labels, the label
histogram and a few pixel rows and sums of the first images.

    /usr/bin/python3 tools/reference/gen_module08.py [DIR]
    /usr/bin/python3 tools/reference/gen_module08.py --check [DIR]   # fails if the file is stale
"""
import gzip
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from refdata import write_or_check  # noqa: E402

CHECK = "--check" in sys.argv[1:]
ARGS = [a for a in sys.argv[1:] if a != "--check"]
DIR = ARGS[0] if ARGS else "/usr/share/datasets/fashion-mnist"
OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                   "tests", "data", "module08_fashion_mnist.json"))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    magic, = struct.unpack(">I", raw[:4])
    ndim = raw[3]
    dims = list(struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim]))
    return magic, dims, raw[4 + 4 * ndim:]


def split(prefix):
    img_magic, img_dims, img = read_idx(f"{DIR}/{prefix}-images-idx3-ubyte.gz")
    lab_magic, lab_dims, lab = read_idx(f"{DIR}/{prefix}-labels-idx1-ubyte.gz")
    n, h, w = img_dims
    hist = [0] * 10
    for v in lab:
        hist[v] += 1
    return {
        "images_magic": img_magic, "images_dims": img_dims,
        "labels_magic": lab_magic, "labels_dims": lab_dims,
        "first_labels": list(lab[:32]),
        "label_histogram": hist,
        # raw byte sums of images 0..3 (scaled images sum to these / 255)
        "first_image_byte_sums": [sum(img[i * h * w:(i + 1) * h * w]) for i in range(4)],
        # image 0, row 14 as raw bytes; the loader's value is byte / 255
        "image0_row14_bytes": list(img[14 * w:15 * w]),
        "last_image_byte_sum": sum(img[(n - 1) * h * w:n * h * w]),
    }


doc = {"generator": "tools/reference/gen_module08.py", "source": DIR,
       "train": split("train"), "test": split("t10k")}
sys.exit(write_or_check(OUT, json.dumps(doc, indent=1) + "\n", CHECK,
                        "Fashion-MNIST facts for the train and test splits"))
