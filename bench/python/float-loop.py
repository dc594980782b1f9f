"""The bench row `float loop` in CPython, written as Python users write it (see _timing.py)."""
def run():
    x = 0.0
    y = 1.5
    for _ in range(1000000):
        x = x * 0.5 + y
        y = y + 0.25
    return x


if __name__ == "__main__":
    from _timing import main

    main(run)
