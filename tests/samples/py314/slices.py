"""Python 3.14 syntax and constants: slice constants, template strings, deferred
annotations (PEP 649) and except without parentheses (PEP 758)."""


def cut(seq):
    # 3.14 folds constant slices into co_consts (marshal version 5, type code ':').
    return seq[1:2], seq[::3], seq[None:"end"], seq[-1:], seq[1:2:-1]


def template(name, count):
    return t"{name} has {count:>4} items", t"plain"


def annotated(a: int, b: "str" = "x", *rest: float) -> list[int]:
    local: dict[str, int] = {}
    return [a, len(b), len(rest), len(local)]


class Point:
    x: int
    y: "float" = 0.0

    def moved(self, dx: int) -> "Point":
        return Point()


def handle(values):
    try:
        return values[0]
    except IndexError, KeyError:
        return None
    except ValueError as error:
        return error
