"""The bench row `counting loop` in CPython, written as Python users write it (see _timing.py)."""
def run():
    n = 0
    i = 0
    while i < 3000000:
        if i % 3 == 0:
            n += 1
        i += 1
    return n


if __name__ == "__main__":
    from _timing import main

    main(run)
