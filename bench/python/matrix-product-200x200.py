"""The bench row `matrix product 200x200` in CPython, written as Python users write it (see _timing.py)."""
def run():
    n = 200
    a = [[(i + j) % 7 for j in range(n)] for i in range(n)]
    b = [[(i * j) % 5 for j in range(n)] for i in range(n)]
    c = []
    for i in range(n):
        ai = a[i]
        row = []
        for j in range(n):
            s = 0
            for k in range(n):
                s += ai[k] * b[k][j]
            row.append(s)
        c.append(row)
    return c[199][199]


if __name__ == "__main__":
    from _timing import main

    main(run)
