"""Helpers of scripts/bench-route, run in .chikaya/venv (psycopg, pgqueuer, asyncpg).

  insert DSN CORPUS RATE SECONDS          complaints into `complaints` at a steady rate (psycopg)
  pgq-install DSN                         PgQueuer's schema
  pgq-enqueue DSN COUNT                   COUNT no-op jobs, enqueued in batches of 1,000
  pgq-drain DSN BATCH                     one PgQueuer worker process that exits when the queue is empty
  pgq-listen DSN BATCH OUT                a PgQueuer worker until SIGTERM; each job's creation time (epoch s) and
                                          enqueue-to-start latency (ms) to OUT, one job a line
  pgq-insert DSN RATE SECONDS             no-op jobs enqueued at a steady rate

A steady rate means: one tick every 10 ms, each tick inserting the rows due since the start
(RATE/100 on time, more when a tick was late), in one statement. The inserter prints the rate
it achieved and its late ticks on stderr, so a machine too busy to keep the rate is seen.
"""

import asyncio
import csv
import datetime
import signal
import sys
import time

TICK = 0.01


def steady(rate: float, seconds: float, send) -> None:
    """Calls send(n) every TICK with the rows due since the start; reports how well it kept up."""
    start = time.perf_counter()
    sent = 0
    late = 0
    tick = 0
    total = int(rate * seconds)
    while sent < total:
        tick += 1
        due_at = start + tick * TICK
        now = time.perf_counter()
        if now < due_at:
            time.sleep(due_at - now)
        elif now - due_at > TICK:
            late += 1
        due = min(total, int(rate * (time.perf_counter() - start)))
        if due > sent:
            send(due - sent)
            sent = due
    elapsed = time.perf_counter() - start
    print(f"inserter: {sent} rows in {elapsed:.2f} s = {sent / elapsed:.0f}/s, {late} ticks late by > 10 ms",
          file=sys.stderr)


def insert(dsn: str, corpus: str, rate: str, seconds: str) -> None:
    import psycopg

    with open(corpus, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    lang = {"ar": "ar", "darija-ar": "ar", "fr": "fr"}
    samples = [(r["text"], lang.get(r["lang"]), r["arrondissement"] or None) for r in rows]
    counter = [0]
    with psycopg.connect(dsn, autocommit=True) as conn:
        def send(n: int) -> None:
            bodies, langs, arrs, emails = [], [], [], []
            for _ in range(n):
                i = counter[0]
                counter[0] += 1
                body, language, arr = samples[i % len(samples)]
                bodies.append(body)
                langs.append(language)
                arrs.append(arr)
                emails.append(f"citizen{i}@example.org" if i % 3 == 0 else None)
            conn.execute(
                "INSERT INTO complaints (body, language, arrondissement, citizen_email) "
                "SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[])",
                (bodies, langs, arrs, emails))
        steady(float(rate), float(seconds), send)


async def _queries(dsn: str):
    import asyncpg
    from pgqueuer import AsyncpgDriver, Queries

    conn = await asyncpg.connect(dsn)
    return conn, Queries(AsyncpgDriver(conn))


def pgq_install(dsn: str) -> None:
    async def main() -> None:
        conn, q = await _queries(dsn)
        await q.install()
        await conn.close()
    asyncio.run(main())


def pgq_enqueue(dsn: str, count: str) -> None:
    async def main() -> None:
        conn, q = await _queries(dsn)
        left = int(count)
        while left > 0:
            n = min(1000, left)
            await q.enqueue(["noop"] * n, [None] * n, [0] * n)
            left -= n
        await conn.close()
    asyncio.run(main())


def _worker(dsn: str, batch: str, out: str | None) -> None:
    """Drains (out None) or listens until SIGTERM, recording each job's start (out given)."""
    from pgqueuer import QueueManager
    from pgqueuer.types import QueueExecutionMode

    latencies: list[tuple[float, float]] = []

    async def main() -> None:
        conn, q = await _queries(dsn)
        qm = QueueManager(q)

        @qm.entrypoint("noop")
        async def noop(job) -> None:
            if out is not None:
                started = datetime.datetime.now(datetime.timezone.utc)
                latencies.append((job.created.timestamp(), (started - job.created).total_seconds() * 1000))

        if out is None:
            await qm.run(batch_size=int(batch), mode=QueueExecutionMode.drain)
        else:
            # Stopped by the benchmark once its rounds are done, however many and long they were.
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, qm.shutdown.set)
            await qm.run(batch_size=int(batch), dequeue_timeout=datetime.timedelta(seconds=1))
        await conn.close()

    asyncio.run(main())
    if out is not None:
        with open(out, "w") as f:
            f.writelines(f"{created:.6f} {ms:.3f}\n" for created, ms in latencies)


def pgq_insert(dsn: str, rate: str, seconds: str) -> None:
    import asyncpg
    from pgqueuer import AsyncpgDriver, Queries

    # PgQueuer's client is asyncio; the steady loop is synchronous, so it drives one event loop.
    loop = asyncio.new_event_loop()
    conn = loop.run_until_complete(asyncpg.connect(dsn))
    q = Queries(AsyncpgDriver(conn))

    def send(n: int) -> None:
        loop.run_until_complete(q.enqueue(["noop"] * n, [None] * n, [0] * n))

    steady(float(rate), float(seconds), send)
    loop.run_until_complete(conn.close())
    loop.close()


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    if command == "insert":
        insert(*args)
    elif command == "pgq-install":
        pgq_install(*args)
    elif command == "pgq-enqueue":
        pgq_enqueue(*args)
    elif command == "pgq-drain":
        _worker(args[0], args[1], None)
    elif command == "pgq-listen":
        _worker(args[0], args[1], args[2])
    elif command == "pgq-insert":
        pgq_insert(*args)
    else:
        sys.exit(f"unknown command {command}")
