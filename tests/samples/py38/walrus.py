"""Python 3.8 syntax: assignment expressions, positional-only parameters."""


def posonly(a, b=2, /, c=3, *, d=4):
    return a, b, c, d


def first_long(words, limit=5):
    if (n := len(words)) > limit:
        return n
    return [y for w in words if (y := w.strip())]


def debug_format(value):
    return f"{value=} {value!r:>8} {value + 1 = }"


def reader(chunks):
    while (chunk := next(chunks, None)) is not None:
        yield chunk
