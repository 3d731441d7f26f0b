"""Functions: closures, generators, defaults, star-args, decorators (Python 3.6+)."""

import functools


def counter(start=0, step=1):
    """Return a closure over a cell variable."""
    count = start

    def bump():
        nonlocal count
        count += step
        return count

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
def signature(a, b=2, *rest, key, flag=False, **extra) -> tuple:
    """Keyword-only arguments and both star forms."""
    assert a is not None, "a is required"
    return (a, b, rest, key, flag, extra)


def generator(n):
    for i in range(n):
        if i % 2:
            yield i
    yield from (x * x for x in range(n))


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
    except (OSError, ValueError) as exc:
        return str(exc)
    finally:
        path = None
