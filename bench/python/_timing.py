"""The timing every program here shares: `python3 FILE [RUNS]` runs the program's `run()`
RUNS times (default 3) after one untimed run, and prints the median time in microseconds and
the result, as `median_us result`. Start-up is excluded, as in the Ruchy bench."""
import sys
import time


def main(run):
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    result = run()
    times = []
    for _ in range(max(runs, 1)):
        t = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - t) * 1e6)
    times.sort()
    print(f"{times[len(times) // 2]:.1f} {result}")
