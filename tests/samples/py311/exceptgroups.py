"""Python 3.11 syntax: exception groups and except*."""


def raise_group():
    raise ExceptionGroup("many", [ValueError(1), TypeError(2), KeyError("k")])


def handle():
    caught = []
    try:
        raise_group()
    except* ValueError as eg:
        caught.append(("value", len(eg.exceptions)))
    except* (TypeError, KeyError) as eg:
        caught.append(("other", len(eg.exceptions)))
    return caught


def nested_try(values):
    total = 0
    for v in values:
        try:
            try:
                total += 1 / v
            except* ZeroDivisionError:
                total -= 1
        except* Exception:
            pass
        finally:
            total *= 2
    return total


async def starred(*aws):
    return [*(await a for a in aws)]
