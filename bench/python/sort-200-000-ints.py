"""The bench row `sort 200,000 ints` in CPython, written as Python users write it (see _timing.py)."""
def run():
    seed = 42
    xs = []
    for _ in range(200000):
        seed = (seed * 1103515245 + 12345) % 2147483648
        xs.append(seed % 1000000)
    s = sorted(xs)
    return s[0] + s[199999]


if __name__ == "__main__":
    from _timing import main

    main(run)
