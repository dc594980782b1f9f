"""The bench row `map/filter/reduce over 300,000 ints` in CPython, written as Python users write it (see _timing.py)."""
from functools import reduce


def run():
    xs = map(lambda x: x * 3, range(300000))
    xs = filter(lambda x: x % 2 == 0, xs)
    return reduce(lambda a, b: a + b, xs, 0)


if __name__ == "__main__":
    from _timing import main

    main(run)
