"""The bench row `structs in an array, updated in place` in CPython, written as Python users write it (see _timing.py)."""
from dataclasses import dataclass


@dataclass
class P:
    x: int
    v: int


def run():
    ps = [P(i, i % 7) for i in range(1000)]
    for _ in range(100):
        for i in range(1000):
            p = ps[i]
            ps[i] = P(p.x + p.v, p.v)
    return ps[999].x


if __name__ == "__main__":
    from _timing import main

    main(run)
