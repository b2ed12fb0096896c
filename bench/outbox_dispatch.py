"""Outbox dispatch cost against a same-run baseline of pushing the same jobs straight to RQ.

The outbox adds a database round trip (claim with UPDATE ... RETURNING) to every batch it
pushes. This prints how much slower a batch dispatch is than a bare `enqueue_many` of the
same number of jobs, measured in the same run on the same Redis, so machines compare.

    .venv/bin/python bench/outbox_dispatch.py [--messages 2000] [--database-url URL]
"""

import argparse
import statistics
import tempfile
import time

from redis import Redis
from results import record
from rq import Queue

from forms_app import create_app
from forms_app.db import Base, get_db, get_session
from workflows import outbox
from workflows.queue import RUN_OUTBOX_MESSAGE


def write_messages(app, count: int) -> None:
    """Commit `count` rows without dispatching them (as if Redis had been down)."""
    with app.app_context():
        session = get_session()
        for i in range(count):
            outbox.add(session, "send_email", to=f"a{i}@example.nc", subject="s", body="b")
        session.info.clear()  # keep them pending: the timed part is the dispatch
        session.commit()


def time_outbox(app, count: int) -> float:
    write_messages(app, count)
    started = time.perf_counter()
    while outbox.dispatch(app):
        pass
    return time.perf_counter() - started


def time_baseline(queue: Queue, count: int) -> float:
    started = time.perf_counter()
    batch = 200
    for first in range(0, count, batch):
        queue.enqueue_many(
            [
                queue.prepare_data(RUN_OUTBOX_MESSAGE, args=(i,), job_id=f"baseline-{i}")
                for i in range(first, min(first + batch, count))
            ]
        )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app({"DATABASE_URL": url, "REDIS_URL": args.redis_url, "ENV": "test"})
        engine = get_db(app).engine
        redis = Redis.from_url(args.redis_url)
        queue = Queue(app.config["QUEUE_NAME"], connection=redis)
        ratios = []
        for _ in range(args.rounds):
            Base.metadata.drop_all(engine)
            Base.metadata.create_all(engine)
            redis.flushdb()
            baseline = time_baseline(queue, args.messages)
            redis.flushdb()
            dispatched = time_outbox(app, args.messages)
            ratios.append(dispatched / baseline)
            print(
                f"{args.messages} jobs: bare enqueue {baseline * 1000:.0f} ms, "
                f"outbox dispatch {dispatched * 1000:.0f} ms, ratio {dispatched / baseline:.2f}"
            )
        Base.metadata.drop_all(engine)
        redis.flushdb()
        summary = (
            f"median ratio outbox/bare enqueue ({engine.dialect.name}): "
            f"{statistics.median(ratios):.2f}"
        )
        print(summary)
        record(
            "Outbox dispatch",
            f"{args.messages} jobs, {args.rounds} rounds: pushing them through the outbox "
            f"(claim with UPDATE … RETURNING, then enqueue_many) against a bare enqueue_many "
            f"of the same jobs on the same Redis.\n\n"
            + "\n".join(f"- round {i + 1}: ratio {r:.2f}" for i, r in enumerate(ratios))
            + f"\n\n{summary}",
        )


if __name__ == "__main__":
    main()
