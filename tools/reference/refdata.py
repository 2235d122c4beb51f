"""What every generator of tests/data/*.json shares: writing the file, or checking that it is
current (--check), in one place.

    from refdata import write_or_check
    return write_or_check(opts.out, text, opts.check, f"{len(CASES)} cases")
"""
import os
import sys
import tempfile


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
