"""Classes, async code and deep nesting (Python 3.6+)."""


class Base:
    """A base class."""

    __slots__ = ("name",)
    kind = "base"

    def __init__(self, name):
        self.name = name

    @property
    def upper(self):
        return self.name.upper()

    @classmethod
    def make(cls, *names):
        return [cls(n) for n in names]

    @staticmethod
    def helper(x, y=(1, 2)):
        return x in y


class Child(Base):
    __slots__ = ()

    def __init__(self, name):
        super().__init__(name)

    def __repr__(self):
        return f"Child({self.name!r:>10})"


async def fetch(source):
    async with source as conn:
        async for row in conn:
            await row.check()
    return [r async for r in source if await r.ok()]


async def ticker(n):
    for i in range(n):
        yield i


def deep():
    def a():
        def b():
            def c():
                def d():
                    return [[[[[[[[["leaf"]]]]]]]]]

                return d

            return c

        return b

    return a
