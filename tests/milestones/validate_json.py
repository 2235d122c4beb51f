#!/usr/bin/python3
"""Validates a JSON document against a JSON Schema (draft 7) with Debian's python3-jsonschema.

    validate_json.py SCHEMA DOCUMENT

Exit status 0 when DOCUMENT is valid; otherwise 1, and every violation printed with its path.
"""
import json
import sys

import jsonschema


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: validate_json.py SCHEMA DOCUMENT", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        document = json.load(f)
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(document), key=lambda e: list(e.path))
    for e in errors:
        # A oneOf/anyOf failure says only "is not valid under any of the given schemas" about
        # the whole (long) value: name the reasons in the branch that came closest (whose
        # errors lie deepest in the document).
        reasons = list(e.context) if e.context else [e]
        closest = max(reasons, key=lambda c: len(c.absolute_path))
        for c in reasons:
            if c.relative_schema_path[0] == closest.relative_schema_path[0]:
                where = "/".join(map(str, c.absolute_path))
                print(f"{sys.argv[2]}: at /{where}: {c.message[:300]}", file=sys.stderr)
    if not errors:
        print(f"{sys.argv[2]}: valid against {sys.argv[1]}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
