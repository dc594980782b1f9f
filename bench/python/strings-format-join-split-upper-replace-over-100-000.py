"""The bench row `strings: format, join, split, upper, replace over 100,000` in CPython, written as Python users write it (see _timing.py)."""
def run():
    items = [f"item {i}" for i in range(100000)]
    line = ",".join(items)
    upper = [s.upper().replace("ITEM", "n") for s in line.split(",")]
    return len(upper) + len(upper[99999])


if __name__ == "__main__":
    from _timing import main

    main(run)
