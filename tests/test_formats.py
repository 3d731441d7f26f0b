"""The format table (pycfile/_formats.py) against the real readers.

``marshal_rules(fmt).handlers`` says, for each of the 256 type bytes, whether the reader
of that format accepts it.  Each interpreter here is asked the same question: its
``marshal.loads`` of the type byte alone either fails with "unknown type code" (the
reader does not know it) or does something else (reads a singleton, or runs out of
bytes for the payload).
"""

from __future__ import annotations

import pytest

import pycfile
from pycfile._formats import HANDLERS, TYPE_CODES, marshal_rules

from interpreters import REQUIRED, require
from oracle import OracleFor

pytestmark = pytest.mark.interpreters


@pytest.mark.parametrize("key", REQUIRED)
def test_the_table_knows_what_each_reader_accepts(key: str, oracle_for: OracleFor) -> None:
    interpreter = require(key)
    oracle = oracle_for(interpreter)
    fmt = pycfile.format_for_version(interpreter.version)
    rules = marshal_rules(fmt)
    wrong = []
    for b in range(256):
        answer = oracle.call("props_load", data=bytes([b]).hex(), marshal_version=fmt.marshal_version)
        unknown = "unknown type code" in answer.get("message", "")
        if unknown == bool(rules.handlers[b]):
            said = "rejects" if unknown else "accepts"
            wrong.append(f"{b:#04x} ({chr(b & 0x7F)!r}): the interpreter {said} it, the table {'does not' if rules.handlers[b] else 'does'}")
    assert not wrong, f"{interpreter}: " + "; ".join(wrong)


def test_codes_of_a_marshal_version_follow_the_magic() -> None:
    """Slices came with marshal 5 at magic 3608, frozendicts with marshal 6: a format
    reads them from its marshal version on, not from its minor version."""
    for magic, slices in [(3600, False), (3607, False), (3608, True), (3627, True)]:
        fmt = pycfile.format_for_magic(magic.to_bytes(2, "little") + b"\r\n")
        assert (":" in marshal_rules(fmt).type_codes) is slices, magic
        error = None
        try:
            pycfile.marshal.loads(b":NNN", version=fmt)
        except pycfile.BadMarshalError as e:
            error = e
        assert (error is None) is slices, (magic, error)
    for fmt in pycfile.known_formats():
        assert ("}" in marshal_rules(fmt).type_codes) is (fmt.marshal_version >= 6), fmt


def test_every_handler_is_read_and_written() -> None:
    """Each handler name has a reader and a writer function of that name, in the same
    order (the two modules mirror each other), and every type code row names a known
    handler.  A reference (``r``) is the one exception: each side's loop keeps the
    reference table, so the loop reads and writes them."""
    from pycfile import _reader, _writer

    handlers = [name for name in HANDLERS if name != "ref"]
    for name in handlers:
        assert callable(getattr(_reader, "read_" + name)), name
        assert callable(getattr(_writer, "write_" + name)), name
    reader_order = [n[5:] for n in vars(_reader) if n.startswith("read_") and n[5:] in HANDLERS]
    writer_order = [n[6:] for n in vars(_writer) if n.startswith("write_") and n[6:] in HANDLERS]
    assert reader_order == writer_order == handlers
    assert {row.handler for row in TYPE_CODES} == set(HANDLERS)
