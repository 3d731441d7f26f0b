"""Constants of every marshal kind (pycfile sample module, Python 3.6+)."""

NONE_TRUE_FALSE = (None, True, False)
ELLIPSIS = ...

SMALL_INTS = (0, 1, -1, 5, -5, 255, 256, 257)
INT32 = (2147483647, -2147483648, 65536, -1000000)
INT64 = (2147483648, -2147483649, 9223372036854775807, -9223372036854775808)
HUGE = 123456789012345678901234567890123456789012345678901234567890123
NEG_HUGE = -98765432109876543210987654321098765432109876543210

FLOATS = (0.0, 1.5, 0.1, 1e16, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308)
NEG_ZERO = -0.0
INF = 1e309
NEG_INF = -1e309
NAN = 1e309 - 1e309
COMPLEXES = (1j, 2 + 3j, -0j, 1e309j, 0.5 - 0.25j)

SENTINEL_BYTES = b"\xffSENTINEL-BYTES\x00\x80"
BYTES = (b"", b"abc", b"\x00\x01\x02\xfe\xff", b"caf\xc3\xa9")
SENTINEL_TEXT = "sentinel-text-caf\u00e9"
STRINGS = ("", "a", "hello", "two words", "caf\u00e9", "\u65e5\u672c\u8a9e", "\U0001f600")
SURROGATES = ("\ud800", "\udfff", "a\udc80b")
LONG_TEXT = (
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
)
LONG_UNICODE = "\u00e9\u00e8" * 10 + "long non-ascii text " * 3
NESTED = ((1, 2), (3, (4, (5, ("deep", (b"bytes", (1.5, (None,))))))))
LONG_TUPLE = (
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
    None, True, False, None, True, False, None, True, False, None,
)


def member(x):
    """Set literals tested with `in` become frozenset constants."""
    if x in {1, 2, 3}:
        return "small"
    if x in {1.5, -2.5, (1, 2), None}:
        return "mixed"
    return x not in {4, 5, 6, 7}


def nested_sentinel():
    return b"NESTED-SENTINEL"
