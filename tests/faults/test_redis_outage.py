"""Redis stopped for 30 s under load: every acknowledged submission is stored and processed."""

import time

import pytest

from tests.faults import ledger
from tests.faults.load import LoadGenerator
from tests.support import wait_until

OUTAGE_SECONDS = 30


@pytest.mark.timeout(300)
def test_submissions_during_a_redis_outage_are_kept_and_processed_once(fleet, private_redis):
    web = fleet.web()
    fleet.worker()
    load = LoadGenerator([web.url], threads=2, max_seconds=180).start()
    try:
        load.wait_for(acknowledged=2, timeout=90)
        private_redis.stop()
        before = len(load.acknowledged())
        time.sleep(OUTAGE_SECONDS)
        during = len(load.acknowledged()) - before
        outage_ledger = ledger.read(fleet.app)
        private_redis.start()
        load.wait_for(acknowledged=before + during + 2, timeout=90)
    finally:
        attempts = load.stop()
    acknowledged = load.acknowledged()
    wait_until(lambda: ledger.all_processed(fleet.app, acknowledged), timeout=120, interval=0.5)
    found = ledger.read(fleet.app)
    ledger.report(
        "Redis stopped 30 s",
        len(attempts),
        acknowledged,
        found,
        acknowledged_during_outage=during,
        outbox_at_end_of_outage=dict(outage_ledger.outbox),
        failures=load.summary(),
    )
    assert during > 0, "no submission was acknowledged while Redis was down"
    assert outage_ledger.outbox["pending"] > 0  # they waited in the database, not in Redis
    assert not load.failures(), load.summary()
    ledger.assert_exactly_once(acknowledged, found)
