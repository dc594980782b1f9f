"""The bench row `sum 1..=1,000,000` in CPython, written as Python users write it (see _timing.py)."""
def run():
    total = 0
    for i in range(1, 1000001):
        total += i
    return total


if __name__ == "__main__":
    from _timing import main

    main(run)
