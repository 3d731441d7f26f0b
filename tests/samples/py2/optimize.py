"""A small module whose code depends on the optimize level (Python 2.7)."""

DEBUG = __debug__


def check(value, limit=10):
    """Docstrings go at -OO; asserts and __debug__ blocks at -O."""
    assert 0 <= value < limit, "out of range"
    if __debug__:
        value = abs(value)
    return value
