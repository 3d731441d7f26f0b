"""Functions: closures, generators, defaults, star-args, decorators (Python 2.7)."""

import functools
import sys


def counter(start=0, step=1):
    """Return a closure over a cell variable."""
    box = [start]

    def bump():
        box[0] += step
        return box[0]

    return bump


def outer(a):
    def middle(b):
        def inner(c):
            return a + b + c

        return inner

    return middle


def traced(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return func(*args, **kwargs)

    return wrapper


@traced
def signature(a, (b, c)=(1, 2), *rest, **extra):
    """Tuple parameters and both star forms."""
    assert a is not None, "a is required"
    return (a, b, c, rest, extra)


def generator(n):
    for i in xrange(n):
        if i % 2:
            yield i
    for x in (x * x for x in range(n)):
        yield x


def comprehensions(items):
    squares = [x * x for x in items if x > 0]
    unique = {x % 3 for x in items}
    index = {x: i for i, x in enumerate(items)}
    lazy = sum(x for x in items)
    return squares, unique, index, lazy, sorted(items, key=lambda x: -x)


def handler(path):
    try:
        with open(path) as f:
            return f.read()
    except (OSError, ValueError), exc:
        print >> sys.stderr, "failed", exc
        return str(exc)
    finally:
        path = None
