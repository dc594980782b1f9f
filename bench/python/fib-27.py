"""The bench row `fib(27)` in CPython, written as Python users write it (see _timing.py)."""
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def run():
    return fib(27)


if __name__ == "__main__":
    from _timing import main

    main(run)
