"""How long `seed_demo` takes for N therapists on a fresh SQLite file, against a 10,000 baseline.

Run: .venv/bin/python benchmarks/seed.py --therapists 100000

Both runs use fresh files in one temporary directory and the same process (ZIP data and name pools are
loaded once, before timing), so the ratio of per-therapist costs shows whether seeding stays linear as
the tables and their indexes grow. Nothing is asserted about time: machines differ.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from massage_booking.demo.data import DEFAULT_SEED, geography, pools, seed_demo  # noqa: E402
from massage_booking.models import Base  # noqa: E402

BASELINE = 10_000


def run(path: Path, therapists: int) -> tuple[float, int]:
    """Seconds to seed `therapists` into a new database at `path`, and how many rows it then holds."""
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        started = time.perf_counter()
        seed_demo(session, therapists=therapists, commit_every_batch=True)
        session.commit()
        elapsed = time.perf_counter() - started
        rows = sum(
            session.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables
        )
    engine.dispose()
    return elapsed, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--therapists", type=int, default=100_000)
    args = parser.parse_args()

    geography()
    pools(DEFAULT_SEED)  # warm the caches so that neither run pays for loading them
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for label, n in (("baseline", BASELINE), ("measured", args.therapists)):
            elapsed, rows = run(Path(tmp) / f"{label}.sqlite3", n)
            results[label] = (n, elapsed, rows)
            print(
                f"{label:>8}: {n:>9,} therapists in {elapsed:7.1f} s | {rows:>10,} rows, "
                f"{rows / elapsed:>9,.0f} rows/s | {elapsed / n * 1e6:6.0f} µs per therapist"
            )
    (n0, t0, _), (n1, t1, _) = results["baseline"], results["measured"]
    print(f"per-therapist cost at {n1:,} / at {n0:,}: {(t1 / n1) / (t0 / n0):.2f}x")


if __name__ == "__main__":
    main()
