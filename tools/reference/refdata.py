"""What every generator of tests/data/*.json shares: its command line, the document header,
the one-case-per-line layout, and writing the file or checking that it is current (--check);
and LibtorchStepLR, the StepLR timing of libtorch's C++ API (modules 06 and 07).

    from refdata import command_line, header, one_case_per_line, write_or_check
    opts = command_line(__doc__, OUT)                  # --out PATH, --check
    doc = {**header(__file__), "cases": CASES}
    return write_or_check(opts.out, one_case_per_line(doc), opts.check, f"{len(CASES)} cases")
"""
import argparse
import json
import os
import sys
import tempfile


def command_line(doc, default_out):
    """Parses the options every generator takes: --out PATH (default: its file under tests/data)
    and --check. `doc` is the generator's docstring; its first line is the description."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="fail if the file on disk is stale")
    ap.add_argument("--out", default=default_out)
    return ap.parse_args()


def header(script):
    """The first keys of every document: which generator wrote it (`script` is its __file__),
    with which PyTorch, in which format."""
    import torch
    return {
        "generator": "tools/reference/" + os.path.basename(script),
        "torch_version": torch.__version__.split("+")[0],
        "format": 1,
    }


def one_case_per_line(doc):
    """Compact JSON with a line break before every case ({"name": ...}): readable diffs."""
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    return text.replace(',{"name":', ',\n{"name":') + "\n"


def write_or_check(path, text, check, summary):
    """With check: 0 when the file at `path` holds exactly `text`, else 1 with a message. Without:
    writes `text` to `path` atomically — a temporary file in the same directory, then a rename,
    so a test never reads half a file — and returns 0. `summary` says what the file holds."""
    if check:
        try:
            with open(path) as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            print(f"{path} is stale: rerun {sys.argv[0]}", file=sys.stderr)
            return 1
        print(f"{path} is up to date ({summary})")
        return 0
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    print(f"wrote {summary}, {len(text)} bytes to {path}")
    return 0


class LibtorchStepLR:
    """torch::optim::StepLR's lrs (libtorch, C++), produced by Python's StepLR.

    The two classes decay at different steps. libtorch's step() looks at how many step() calls
    came BEFORE it and multiplies by gamma when that number is a positive multiple of step_size:
    after k calls the lr is base * gamma ** ((k - 1) // step_size) (k >= 1). Python's constructor
    already counts as a step, so after k calls its lr is base * gamma ** (k // step_size): one
    step ahead. Hence libtorch after k calls = Python after k - 1 calls: this wrapper swallows its
    first step() and forwards every later one. get_last_lr() and _get_closed_form_lr() are
    Python's, at its own (one smaller) epoch."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        import torch
        self.python = torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)
        self.calls = 0

    def step(self):
        if self.calls > 0:
            self.python.step()
        self.calls += 1

    def get_last_lr(self):
        return self.python.get_last_lr()

    def _get_closed_form_lr(self):
        return self.python._get_closed_form_lr()
