"""How long one offline look-up takes, against `zipcodes.matching` measured in the same run.

Search geocodes `near` on every request, so the look-up must cost microseconds, not the ~1 ms a scan
of the 42,000-row zipcodes list costs. Prints per-call times and the ratio; asserts nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import zipcodes

from massage_booking.geocoding import gazetteer, locate

QUERIES = ["10001", "02115-1234", "Boston, MA", "Honolulu, HI", "40.7,-74.0", "61.2,-149.9"]


def per_call(fn: Callable[[], object], n: int) -> float:
    fn()
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - started) / n


def main() -> None:
    started = time.perf_counter()
    gazetteer()
    print(f"index build: {time.perf_counter() - started:.2f} s (once per process)")
    baseline = per_call(lambda: zipcodes.matching("10001"), 50)
    print(f"baseline zipcodes.matching('10001'): {baseline * 1e6:9.1f} µs")
    for query in QUERIES:
        t = per_call(lambda q=query: locate(q), 2000)
        print(f"locate({query!r:16}) {t * 1e6:9.1f} µs   {baseline / t:8.0f}x faster than the baseline")


if __name__ == "__main__":
    main()
