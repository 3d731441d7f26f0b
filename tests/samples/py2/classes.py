"""Classes, old-style classes, exec and deep nesting (Python 2.7)."""


class Base(object):
    """A new-style base class."""

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
        super(Child, self).__init__(name)

    def __repr__(self):
        return "Child(%r)" % (self.name,)


class OldStyle:
    def run(self, code):
        exec code in {}
        return `self`


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
