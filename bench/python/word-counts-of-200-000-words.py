"""The bench row `word counts of 200,000 words` in CPython, written as Python users write it (see _timing.py)."""
def run():
    words = [f"w{(i * 7919) % 5000}" for i in range(200000)]
    counts = {}
    for w in words:
        if w in counts:
            counts[w] = counts[w] + 1
        else:
            counts[w] = 1
    return len(counts)


if __name__ == "__main__":
    from _timing import main

    main(run)
