"""Python 3.10 syntax: structural pattern matching."""


class Point:
    __match_args__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


def describe(obj):
    match obj:
        case None | True | False:
            return "singleton"
        case 0 | 1.5 | -2j | "text" | b"bytes":
            return "literal"
        case [x, y, *rest] if x == y:
            return ("pair", rest)
        case {"kind": "circle", "radius": r, **extra}:
            return ("circle", r, extra)
        case Point(0, y=0):
            return "origin"
        case Point(x, y) as p:
            return (p, x, y)
        case (1, 2) | (3, 4):
            return "tuple"
        case str() | bytes():
            return "stringish"
        case _:
            return "other"


def contexts(a, b):
    with (
        open(a) as fa,
        open(b) as fb,
    ):
        return fa.read() + fb.read()
