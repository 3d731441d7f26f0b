# -*- coding: utf-8 -*-
"""Constants of every marshal kind (pycfile sample module, Python 2.7)."""

NONE_TRUE_FALSE = (None, True, False)

SMALL_INTS = (0, 1, -1, 5, -5, 255, 256, 257)
INT32 = (2147483647, -2147483648, 65536, -1000000)
INT64 = (2147483648, -2147483649, 9223372036854775807, -9223372036854775808)
LONGS = (0L, 1L, -1L, 2147483648L)
HUGE = 123456789012345678901234567890123456789012345678901234567890123L
NEG_HUGE = -98765432109876543210987654321098765432109876543210

FLOATS = (0.0, 1.5, 0.1, 1e16, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308)
NEG_ZERO = -0.0
INF = 1e309
NEG_INF = -1e309
COMPLEXES = (1j, 2 + 3j, -0j, 1e309j, 0.5 - 0.25j)

SENTINEL_BYTES = b"\xffSENTINEL-BYTES\x00\x80"
BYTES = ("", "abc", "\x00\x01\x02\xfe\xff", "caf\xc3\xa9", "identifier_like")
SENTINEL_NAME = "SENTINEL_INTERNED_NAME"
SENTINEL_TEXT = u"sentinel-text-caf\u00e9"
UNICODE = (u"", u"a", u"hello", u"caf\u00e9", u"\u65e5\u672c\u8a9e", u"\U0001f600", u"\ud800", u"a\udc80b")
LONG_TEXT = (
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
    "0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"
)
LONG_UNICODE = u"\u00e9\u00e8" * 10 + u"long non-ascii text " * 3
NESTED = ((1, 2), (3, (4, (5, ("deep", (u"text", (1.5, (None,))))))))
LONG_TUPLE = (  # True and False are names in 2.x, so not in a constant
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
    None, 0, None, 1, None, 2, None, -1, None, None,
)


def member(x, seq):
    """2.7 builds set literals at run time; a[...] loads an Ellipsis constant."""
    if x in {1, 2, 3}:
        return "small"
    return seq[...], seq[1:2, ...]


def nested_sentinel():
    return "NESTED-SENTINEL"
