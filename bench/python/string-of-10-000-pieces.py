"""The bench row `string of 10,000 pieces` in CPython, written as Python users write it (see _timing.py)."""
def run():
    s = ""
    for _ in range(10000):
        s += "x"
    return len(s)


if __name__ == "__main__":
    from _timing import main

    main(run)
