"""The bench row `a recursive sort that builds arrays (20,000 ints)` in CPython, written as Python users write it (see _timing.py)."""
def qs(xs):
    if len(xs) <= 1:
        return xs
    p = xs[0]
    rest = xs[1:]
    return qs([x for x in rest if x < p]) + [p] + qs([x for x in rest if x >= p])


def run():
    seed = 7
    xs = []
    for _ in range(20000):
        seed = (seed * 1103515245 + 12345) % 2147483648
        xs.append(seed % 100000)
    s = qs(xs)
    return s[0] + s[19999]


if __name__ == "__main__":
    from _timing import main

    main(run)
