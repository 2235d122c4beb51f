#!/usr/bin/python3
"""tinytorch_export end to end (ctest serve.export): a training checkpoint that records its
architecture becomes a model file with the same weights (the same version as the model exported
in process) and an int8 one; a checkpoint without the record, a missing file and a missing --out
are refused with a message that says what was wrong. Standard library only."""
import argparse
import json
import os
import re
import struct
import subprocess
import sys
import zlib

parser = argparse.ArgumentParser()
parser.add_argument("--export", required=True)
parser.add_argument("--make-model", required=True)
parser.add_argument("--workdir", required=True)
args = parser.parse_args()
os.makedirs(args.workdir, exist_ok=True)
subprocess.run([args.make_model, args.workdir], check=True)
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def export(*argv):
    r = subprocess.run([args.export, *argv], capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def path(name):
    return os.path.join(args.workdir, name)


def weight_bytes(out):
    return int(re.search(r"weights (\d+) bytes", out).group(1))


rc, out = export(path("checkpoint.ttc"), "--out", path("exported.ttm"))
print(out)
float_bytes = weight_bytes(out)
check(float_bytes == 4 * (12 * 16 + 16 + 16 * 4 + 4), "float32 weights: 4 bytes each")
check(rc == 0, "checkpoint → model file: exit 0")
check("max |difference| 0" in out, "the reloaded file reproduces the model exactly")
expected_version = __import__("json").load(open(path("expected.json")))["version"]
check("version " + expected_version in out,
      "the same weights give the same version as the in-process export (%s)" % expected_version)
check(os.path.exists(path("exported.ttm")), "exported.ttm written")

rc, out = export(path("checkpoint.ttc"), "--out", path("int8.ttm"), "--int8",
                 "--statistics-from", path("model.ttm"))
print(out)
check(rc == 0 and "(int8)" in out and "tiny-mlp-int8" in out, "--int8: an int8 model file")
check("max |difference| 0" in out, "--int8: the reloaded file reproduces the int8 model exactly")
check(weight_bytes(out) == (12 * 16 + 16 * 4) + 4 * 2 * (16 + 4),
      "--int8: one byte per weight, four per scale and bias")

rc, out = export(path("plain.ttc"), "--out", path("x.ttm"))
check(rc == 1 and "has no deploy.architecture" in out, "a checkpoint without the record: " + out.strip())
rc, out = export(path("missing.ttc"), "--out", path("x.ttm"))
check(rc == 1 and "missing.ttc" in out, "a missing checkpoint is named: " + out.strip())
rc, out = export(path("model.ttm"), "--out", path("x.ttm"))
check(rc == 1 and "model.ttm" in out, "a model file is not a checkpoint: " + out.strip())
rc, out = export(path("checkpoint.ttc"))
check(rc != 0 and "--out" in out, "--out is required: " + out.strip())
check(not os.path.exists(path("x.ttm")), "nothing written by the refused runs")


def with_architecture(src, dst, architecture):
    """Copies the checkpoint archive `src` to `dst` with its deploy.architecture entry replaced
    (magic, version, header length, JSON header, tensor bytes, CRC-32 of all before it)."""
    data = open(src, "rb").read()
    prefix = 8 + 4 + 8
    header_len = struct.unpack("<Q", data[12:prefix])[0]
    header = json.loads(data[prefix:prefix + header_len])
    keys = [k for k in header["strings"] if k.endswith("deploy.architecture")]
    assert len(keys) == 1, keys
    header["strings"][keys[0]] = architecture
    text = json.dumps(header).encode()
    body = data[:12] + struct.pack("<Q", len(text)) + text + data[prefix + header_len:-4]
    open(dst, "wb").write(body + struct.pack("<I", zlib.crc32(body)))


# A record of Sequentials nested 20,000 deep crashed the export (stack overflow): the model
# loader's limits now apply here too, before anything is built.
deep = '{"name": "0", "type": "Flatten", "start_dim": 1, "end_dim": -1}'
for _ in range(20000):
    deep = '{"name": "0", "type": "Sequential", "layers": [' + deep + "]}"
with_architecture(path("checkpoint.ttc"), path("deep.ttc"), deep)
rc, out = export(path("deep.ttc"), "--out", path("x.ttm"))
check(rc == 1 and "nested more than 64 deep" in out,
      "a record nested 20,000 deep is refused, not a crash (exit %d): %s" % (rc, out.strip()[-300:]))
# Layers the checkpoint's tensors do not back are refused before they are allocated.
huge = ('{"type": "Sequential", "layers": [{"name": "0", "type": "Linear", "in_features": '
        '16777216, "out_features": 16777216, "bias": true}]}')
with_architecture(path("checkpoint.ttc"), path("huge.ttc"), huge)
rc, out = export(path("huge.ttc"), "--out", path("x.ttm"))
check(rc == 1 and "bytes of parameters" in out,
      "a 2^48-weight Linear without its tensors is refused: " + out.strip()[-300:])
check(not os.path.exists(path("x.ttm")), "nothing written by the refused records")

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
