#!/usr/bin/env python3
"""Regenerate ``tests/fixtures/broken/``: pycs broken on purpose, one fault each.

Each file starts from a real fixture (``tests/fixtures/cpython-3.12/constants.opt0.pyc``
or ``tests/fixtures/cpython-2.7/constants.opt0.pyc``, written by those interpreters) and
has one thing wrong, which its name says.  The faults are placed on the sentinel
constants of ``tests/samples/py*/constants.py``, found in the bytes by their known
content (each must occur exactly once); which ``co_consts`` index a sentinel has comes
from the fixture's ``MANIFEST.json`` (what the interpreter said), never from pycfile.

``EXPECTED.json`` records, for each file, what a reader must report, computed from how
the file was built: the error class, a word its message must contain, the byte offset
of the fault and the object path.  Where an interpreter of that version is installed,
it also records what that interpreter's own ``marshal.loads`` raised for the stream (as
evidence that the file is really broken); the huge-length cases are not run there.

Usage: ``python scripts/make_broken.py [--check]`` (``--check``: compare, don't write).
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
OUT = FIXTURES / "broken"

BASE3 = FIXTURES / "cpython-3.12" / "constants.opt0.pyc"
BASE2 = FIXTURES / "cpython-2.7" / "constants.opt0.pyc"
INTERPRETERS = {
    "3.12": "/root/.pyenv/versions/3.12.1/bin/python",
    "2.7": "/root/.pyenv/versions/2.7.18/bin/python",
}

# Sentinel constants of tests/samples/py3/constants.py and py2/constants.py.
SENTINEL_BYTES = b"\xffSENTINEL-BYTES\x00\x80"
SENTINEL_TEXT = "sentinel-text-caf\u00e9"
SENTINEL_NAME = b"SENTINEL_INTERNED_NAME"
NESTED_SENTINEL = b"NESTED-SENTINEL"
LONG_TEXT = b"0123456789abcdefghijklmnopqrstuvwxyz" * 8
HUGE = 123456789012345678901234567890123456789012345678901234567890123
LONG_TUPLE_LEN = 300

P32 = struct.Struct("<i").pack
U32 = struct.Struct("<I").pack


def locate(data: bytes, codes: bytes, payload: bytes) -> int:
    """The offset of the one object whose type byte (FLAG_REF ignored) is in ``codes``
    and whose bytes after the type byte start with ``payload``."""
    hits = []
    start = 0
    while True:
        i = data.find(payload, start)
        if i < 0:
            break
        if i > 0 and data[i - 1] & 0x7F in codes:
            hits.append(i - 1)
        start = i + 1
    if len(hits) != 1:
        raise SystemExit(f"expected one {codes!r} object with payload {payload[:20]!r}..., found {hits}")
    return hits[0]


def long_payload(value: int) -> bytes:
    """The bytes after ``l``: signed digit count, then 15-bit digits, least first."""
    digits = []
    v = abs(value)
    while v:
        digits.append(v & 0x7FFF)
        v >>= 15
    n = len(digits) if value >= 0 else -len(digits)
    return P32(n) + b"".join(struct.pack("<H", d) for d in digits)


def patch(data: bytes, at: int, new: bytes) -> bytes:
    return data[:at] + new + data[at + len(new) :]


def const_index(manifest: Dict[str, Any], file: str, code: int, encoded: Any) -> int:
    """Index in ``co_consts`` of code object ``code`` (manifest numbering) of the
    constant the interpreter described as ``encoded``."""
    entry = next(f for f in manifest["files"] if f["file"] == file)
    consts = entry["code_objects"][code]["consts"]
    matches = [i for i, c in enumerate(consts) if c == encoded]
    if len(matches) != 1:
        raise SystemExit(f"constant {encoded!r} found {len(matches)} times in {file}")
    return matches[0]


def code_index(manifest: Dict[str, Any], file: str, name: str) -> Tuple[int, int]:
    """(manifest index, index in the module's co_consts) of a function's code object."""
    entry = next(f for f in manifest["files"] if f["file"] == file)
    codes = entry["code_objects"]
    index = next(i for i, c in enumerate(codes) if c["co_name"] == name)
    return index, const_index(manifest, file, 0, ["code", index])


def build() -> Tuple[Dict[str, bytes], Dict[str, Dict[str, Any]]]:
    """Every broken file (name -> bytes) and what reading it must report."""
    files: Dict[str, bytes] = {}
    expected: Dict[str, Dict[str, Any]] = {}

    def add(
        name: str,
        data: bytes,
        error: str,
        words: str,
        offset: int,
        path: Optional[str],
        version: str,
        header: int,
        marshal_check: bool = True,
        note: str = "",
    ) -> None:
        files[name] = data
        repeat = None
        if path is not None and path.endswith("[0]" * 100):  # keep EXPECTED.json short
            count = 0
            while path.endswith("[0]"):
                path = path[:-3]
                count += 1
            repeat = ["[0]", count]
        expected[name] = {
            "error": error,
            "message": words,
            "offset": offset,
            "path": path,
            "path_repeat": repeat,
            "version": version,
            "header_size": header,
            "run_interpreter": marshal_check,
            "note": note,
        }

    # ---- CPython 3.12 -----------------------------------------------------------
    d3 = BASE3.read_bytes()
    m3 = json.loads((BASE3.parent / "MANIFEST.json").read_text(encoding="utf-8"))
    f3 = BASE3.name
    h3 = 16
    assert d3[:4] == bytes.fromhex(m3["magic"])
    # The module's code object carries FLAG_REF: slot 0 stays reserved while it is read.
    assert d3[h3] == 0x80 | ord("c"), d3[h3]

    i_bytes = const_index(m3, f3, 0, ["bytes", SENTINEL_BYTES.hex()])
    i_text = const_index(m3, f3, 0, ["str", SENTINEL_TEXT])
    i_long_text = const_index(m3, f3, 0, ["str", LONG_TEXT.decode()])
    i_huge = const_index(m3, f3, 0, ["int", str(HUGE)])
    row: List[Any] = [["None"], ["bool", True], ["bool", False]] * 3 + [["None"]]  # one source line
    i_tuple = const_index(m3, f3, 0, ["tuple", row * (LONG_TUPLE_LEN // len(row))])
    nested_code, i_nested_fn = code_index(m3, f3, "nested_sentinel")
    i_nested = const_index(m3, f3, nested_code, ["bytes", NESTED_SENTINEL.hex()])

    at_bytes = locate(d3, b"s", P32(len(SENTINEL_BYTES)) + SENTINEL_BYTES)
    at_text = locate(d3, b"ut", P32(len(SENTINEL_TEXT.encode())) + SENTINEL_TEXT.encode())
    at_long_text = locate(d3, b"aA", P32(len(LONG_TEXT)) + LONG_TEXT)
    at_huge = locate(d3, b"l", long_payload(HUGE))
    at_tuple = locate(d3, b"(", P32(LONG_TUPLE_LEN) + b"NTF")
    at_nested = locate(d3, b"s", P32(len(NESTED_SENTINEL)) + NESTED_SENTINEL)
    p_bytes = f"code.co_consts[{i_bytes}]"

    add("bad_magic.pyc", b"\x00\x00\r\n" + d3[4:], "UnknownMagicError", "magic", 0, None, "", 0, False)
    add("too_short_3_bytes.pyc", d3[:3], "TruncatedError", "magic", 0, None, "", 0, False)
    add("header_only.pyc", d3[:h3], "TruncatedError", "EOF", h3, "code", "3.12", h3)
    add("header_cut.pyc", d3[:10], "TruncatedError", "header", 10, None, "3.12", h3, False)
    # Cut inside co_stacksize, the 4th 32-bit field after the type byte.
    add(
        "truncated_in_code_int_field.pyc",
        d3[: h3 + 1 + 12 + 2],
        "TruncatedError",
        "co_stacksize",
        h3 + 1 + 12,
        "code.co_stacksize",
        "3.12",
        h3,
        note="co_argcount, co_posonlyargcount and co_kwonlyargcount are complete",
    )
    add(
        "truncated_string.pyc",
        d3[: at_long_text + 5 + 100],
        "TruncatedError",
        "string",
        at_long_text,
        f"code.co_consts[{i_long_text}]",
        "3.12",
        h3,
    )
    add(
        "truncated_string_nested.pyc",
        d3[: at_nested + 5 + 6],
        "TruncatedError",
        "bytes",
        at_nested,
        f"code.co_consts[{i_nested_fn}].co_consts[{i_nested}]",
        "3.12",
        h3,
    )
    add(
        "bad_ref_index.pyc",
        patch(d3, at_bytes, b"r" + P32(1000000)),
        "BadMarshalError",
        "reference",
        at_bytes,
        p_bytes,
        "3.12",
        h3,
    )
    add(
        "ref_to_reserved_slot.pyc",
        patch(d3, at_bytes, b"r" + P32(0)),
        "BadMarshalError",
        "reference",
        at_bytes,
        p_bytes,
        "3.12",
        h3,
        note="slot 0 is the module's code object, still being read",
    )
    add(
        "huge_string_length.pyc",
        patch(d3, at_bytes + 1, P32(0x7FFFFFFF)),
        "TruncatedError",
        "2147483647",
        at_bytes,
        p_bytes,
        "3.12",
        h3,
        False,
    )
    add(
        "huge_tuple_length.pyc",
        patch(d3, at_tuple + 1, P32(0x7FFFFFFF)),
        "TruncatedError",
        "2147483647",
        at_tuple,
        f"code.co_consts[{i_tuple}]",
        "3.12",
        h3,
        False,
    )
    add(
        "huge_long_digit_count.pyc",
        patch(d3, at_huge + 1, P32(0x7FFFFFFF)),
        "TruncatedError",
        "2147483647",
        at_huge,
        f"code.co_consts[{i_huge}]",
        "3.12",
        h3,
        False,
    )
    add(
        "negative_string_length.pyc",
        patch(d3, at_bytes + 1, P32(-1)),
        "BadMarshalError",
        "size",
        at_bytes,
        p_bytes,
        "3.12",
        h3,
    )
    add(
        "negative_tuple_length.pyc",
        patch(d3, at_tuple + 1, P32(-2)),
        "BadMarshalError",
        "size",
        at_tuple,
        f"code.co_consts[{i_tuple}]",
        "3.12",
        h3,
    )
    add(
        "unknown_type_code.pyc",
        patch(d3, at_bytes, b"Q"),
        "BadMarshalError",
        "unknown type code",
        at_bytes,
        p_bytes,
        "3.12",
        h3,
    )
    add(
        "null_where_value_expected.pyc",
        patch(d3, at_bytes, b"0"),
        "BadMarshalError",
        "NULL",
        at_bytes,
        p_bytes,
        "3.12",
        h3,
    )
    digits_at = at_huge + 5
    n_digits = len(long_payload(HUGE)) // 2 - 2
    add(
        "long_digit_out_of_range.pyc",
        patch(d3, digits_at + 2, struct.pack("<H", 0x8000)),
        "BadMarshalError",
        "digit out of range",
        at_huge,
        f"code.co_consts[{i_huge}]",
        "3.12",
        h3,
    )
    add(
        "long_unnormalized.pyc",
        patch(d3, digits_at + 2 * (n_digits - 1), b"\x00\x00"),
        "BadMarshalError",
        "unnormalized",
        at_huge,
        f"code.co_consts[{i_huge}]",
        "3.12",
        h3,
        note="top digit zeroed",
    )
    utf8_at = at_text + 5 + SENTINEL_TEXT.encode().index(b"\xc3")
    add(
        "bad_utf8_in_u.pyc",
        patch(d3, utf8_at, b"\xff"),
        "BadMarshalError",
        "UTF-8",
        utf8_at,
        f"code.co_consts[{i_text}]",
        "3.12",
        h3,
        note="offset of the invalid byte",
    )
    nest = b"[" + P32(1)
    add(
        "deep_nesting_2001_lists.pyc",
        d3[:h3] + nest * 2000 + b"[" + P32(0),
        "NestingTooDeepError",
        "nested",
        h3 + 5 * 2000,
        "code" + "[0]" * 2000,
        "3.12",
        h3,
    )

    # ---- CPython 2.7 --------------------------------------------------------------
    d2 = BASE2.read_bytes()
    m2 = json.loads((BASE2.parent / "MANIFEST.json").read_text(encoding="utf-8"))
    f2 = BASE2.name
    h2 = 8
    assert d2[:4] == bytes.fromhex(m2["magic"])
    i_name = const_index(m2, f2, 0, ["bytes", SENTINEL_NAME.hex()])
    at_name = locate(d2, b"t", P32(len(SENTINEL_NAME)) + SENTINEL_NAME)
    add(
        "py27_stringref_out_of_range.pyc",
        patch(d2, at_name, b"R" + P32(1000000)),
        "BadMarshalError",
        "string ref",
        at_name,
        f"code.co_consts[{i_name}]",
        "2.7",
        h2,
    )
    add(
        "py27_stringref_negative.pyc",
        patch(d2, at_name, b"R" + P32(-1)),
        "BadMarshalError",
        "string ref",
        at_name,
        f"code.co_consts[{i_name}]",
        "2.7",
        h2,
    )
    add(
        "py27_deep_nesting_2001_lists.pyc",
        d2[:h2] + nest * 2000 + b"[" + P32(0),
        "NestingTooDeepError",
        "nested",
        h2 + 5 * 2000,
        "code" + "[0]" * 2000,
        "2.7",
        h2,
    )
    i2_bytes = const_index(m2, f2, 0, ["bytes", SENTINEL_BYTES.hex()])
    at2_bytes = locate(d2, b"s", P32(len(SENTINEL_BYTES)) + SENTINEL_BYTES)
    add(
        "py27_huge_string_length.pyc",
        patch(d2, at2_bytes + 1, P32(0x7FFFFFFF)),
        "TruncatedError",
        "2147483647",
        at2_bytes,
        f"code.co_consts[{i2_bytes}]",
        "2.7",
        h2,
        False,
    )
    add(
        "py27_ref_code_unknown.pyc",
        patch(d2, at2_bytes, b"r"),
        "BadMarshalError",
        "unknown type code",
        at2_bytes,
        f"code.co_consts[{i2_bytes}]",
        "2.7",
        h2,
        note="2.x has no 'r' references",
    )

    # ---- CPython 2.4 (no 2.4 interpreter here: its 8-byte header is made by hand) --
    h24 = (62061).to_bytes(2, "little") + b"\r\n" + d2[4:8]
    add(
        "py24_deep_nesting_5001_lists.pyc",
        h24 + nest * 5000 + b"[" + P32(0),
        "NestingTooDeepError",
        "nested",
        8 + 5 * 5000,
        "code" + "[0]" * 5000,
        "2.4",
        8,
        False,
        note="2.4 and older had no reader limit; their writers stopped at 5000",
    )
    return files, expected


_PROBE = r"""
import marshal, sys
data = open(sys.argv[1], "rb").read()[int(sys.argv[2]):]
try:
    marshal.loads(data)
except BaseException as e:
    sys.stdout.write("%s: %s" % (type(e).__name__, e))
else:
    sys.stdout.write("loaded")
"""


def interpreter_says(python: str, path: Path, header: int) -> Optional[str]:
    """What the real interpreter's marshal.loads raises for the file's stream."""
    if not os.path.exists(python):
        return None

    def limit() -> None:  # a broken stream must not take the machine's memory
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    proc = subprocess.run(
        [python, "-c", _PROBE, str(path), str(header)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
    )
    return proc.stdout.strip() or proc.stderr.strip().splitlines()[-1]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed files")
    args = parser.parse_args(argv)
    files, expected = build()
    if args.check:
        stale = [n for n, b in files.items() if not (OUT / n).is_file() or (OUT / n).read_bytes() != b]
        if stale:
            print("stale:", ", ".join(stale))
            return 1
        print("up to date")
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("*.pyc"):
        if old.name not in files:
            old.unlink()
    for name, data in files.items():
        (OUT / name).write_bytes(data)
        exp = expected[name]
        python = INTERPRETERS.get(exp["version"])
        if exp.pop("run_interpreter") and python:
            exp["interpreter_says"] = interpreter_says(python, OUT / name, exp["header_size"])
    text = "{\n" + ",\n".join(
        f" {json.dumps(n)}: {json.dumps(expected[n], sort_keys=True)}" for n in sorted(expected)
    ) + "\n}\n"
    (OUT / "EXPECTED.json").write_text(text, encoding="utf-8")
    print(f"{len(files)} broken files in {OUT.relative_to(ROOT)} ({sum(map(len, files.values()))} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
