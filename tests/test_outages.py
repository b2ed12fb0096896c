"""Outage detection: abnormal buckets against the recent baseline, and the windows they form."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from forms_app import ops_evidence, outages
from forms_app.config import Config
from forms_app.db import get_session, utcnow
from forms_app.models import DeadlineExtension, Form, ProblemReport
from forms_app.ops_evidence import Bucket
from tests.support import publish_form

CONFIG = {key: getattr(Config, key) for key in dir(Config) if key.isupper()}
WIDTH = timedelta(minutes=15)
T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
DAY = 96  # buckets of 15 minutes


def make_series(n: int, **signals) -> list[Bucket]:
    """n buckets from T0; each signal is a function of the bucket's index (or a constant)."""
    buckets = []
    for i in range(n):
        start = T0 + i * WIDTH
        values = {k: (v(i) if callable(v) else v) for k, v in signals.items()}
        buckets.append(Bucket(start=start, end=start + WIDTH, **values))
    return buckets


def at(i: int) -> datetime:
    return T0 + i * WIDTH


def test_a_burst_of_errors_and_reports_is_exactly_one_window():
    burst = range(DAY + 10, DAY + 14)  # one hour, after a day of quiet baseline
    buckets = make_series(
        2 * DAY,
        requests=200,
        server_errors=lambda i: 40 if i in burst else i % 2,
        problem_reports=lambda i: 6 if i in burst else (1 if i % 10 == 0 else 0),
        heartbeats=15,
    )
    [window] = outages.detect(buckets, CONFIG)
    assert (window.start, window.end) == (at(DAY + 10), at(DAY + 14))
    assert window.duration == timedelta(hours=1)
    assert window.reasons == ("server_errors", "problem_reports")
    assert [b.start for b in window.buckets] == [at(i) for i in burst]


def test_a_steady_noisy_baseline_is_no_outage():
    # Many errors and reports all the time, going up and down: nothing stands out.
    noise = [12, 7, 15, 9, 11, 14, 8, 13, 10, 6, 16, 9, 12, 5]
    buckets = make_series(
        3 * DAY,
        server_errors=lambda i: noise[i % len(noise)],
        failed_submissions=lambda i: noise[(i * 5) % len(noise)] // 2,
        problem_reports=lambda i: noise[(i * 3) % len(noise)] // 2,
        heartbeats=15,
    )
    assert outages.detect(buckets, CONFIG) == []
    assert outages.detect(buckets[37:], CONFIG) == []  # wherever the series starts


def test_counts_under_the_floor_are_no_outage_even_from_a_quiet_baseline():
    buckets = make_series(2 * DAY, server_errors=lambda i: 4 if i == DAY else 0, heartbeats=1)
    assert outages.detect(buckets, CONFIG) == []
    config = dict(CONFIG, OUTAGE_MIN_SERVER_ERRORS=4)
    [window] = outages.detect(buckets, config)
    assert window.start == at(DAY)


def test_missing_heartbeats_are_a_worker_outage():
    silent = range(DAY + 4, DAY + 8)
    buckets = make_series(2 * DAY, heartbeats=lambda i: 0 if i in silent else 15)
    [window] = outages.detect(buckets, CONFIG)
    assert (window.start, window.end, window.reasons) == (at(DAY + 4), at(DAY + 8), ("heartbeats",))


def test_no_heartbeat_before_workers_ever_beat_is_no_outage():
    buckets = make_series(DAY, heartbeats=lambda i: 0 if i < 40 else 15)
    assert outages.detect(buckets, CONFIG) == []


def test_the_bucket_in_progress_is_not_judged_on_heartbeats():
    buckets = make_series(10, heartbeats=lambda i: 0 if i == 9 else 15)
    in_progress = buckets[9].start + timedelta(minutes=2)
    assert outages.detect(buckets, CONFIG, now=in_progress) == []
    assert len(outages.detect(buckets, CONFIG, now=buckets[9].end)) == 1


def test_one_quiet_bucket_does_not_split_a_window_two_do():
    def errors(pattern: set[int]):
        return make_series(DAY + 20, server_errors=lambda i: 30 if i - DAY in pattern else 0)

    [window] = outages.detect(errors({0, 1, 3, 4}), CONFIG)
    assert (window.start, window.end) == (at(DAY), at(DAY + 5))
    assert len(window.buckets) == 5
    assert len(outages.detect(errors({0, 1, 4, 5}), CONFIG)) == 2


def test_a_long_outage_does_not_become_its_own_baseline():
    # Six days of errors after a quiet day: still one window until the errors stop.
    buckets = make_series(8 * DAY, server_errors=lambda i: 25 if DAY <= i < 7 * DAY else 1)
    [window] = outages.detect(buckets, CONFIG)
    assert (window.start, window.end) == (at(DAY), at(7 * DAY))
    assert window.duration == timedelta(days=6)


def test_windows_read_the_evidence_stored_by_the_app(app):
    now = utcnow()
    burst = ops_evidence.bucket_start(now - timedelta(hours=5), 15)
    for i in range(4 * 24 * 4):  # a quiet baseline: a few errors now and then
        ops_evidence.count(app, "server_errors", i % 3, at=now - timedelta(minutes=15 * i))
    ops_evidence.count(app, "server_errors", 30, at=burst)
    ops_evidence.count(app, "server_errors", 25, at=burst + WIDTH)
    ops_evidence.count(app, "failed_submissions", 8, at=burst + WIDTH)
    ops_evidence.flush(app)
    with app.app_context():
        session = get_session()
        for minute in (1, 5, 9, 20, 22, 24):
            moment = burst + timedelta(minutes=minute)
            session.add(ProblemReport(page="/", description="Erreur", created_at=moment))
        session.commit()
        found = outages.windows(session, now - timedelta(days=3), now, app.config)
        assessment = outages.assess(session, now - timedelta(hours=24), now, app.config)
    [window] = found
    assert (window.start, window.end) == (burst, burst + 2 * WIDTH)
    assert window.reasons == ("server_errors", "failed_submissions", "problem_reports")
    assert assessment.windows == found
    assert assessment.buckets[0].start == ops_evidence.bucket_start(now - timedelta(hours=24), 15)
    flagged = [b.start for b, v in zip(assessment.buckets, assessment.verdicts, strict=True) if v]
    assert flagged == [burst, burst + WIDTH]


def test_cli_detect_prints_the_window_and_the_proposed_extension(app, runner):
    now = utcnow()
    burst = ops_evidence.bucket_start(now - timedelta(hours=3), 15)
    ops_evidence.count(app, "server_errors", 50, at=burst)
    ops_evidence.flush(app)
    publish_form(app, [{"key": "nom", "type": "text", "label": "Nom"}], slug="aide")
    with app.app_context():
        session = get_session()
        form = session.scalar(select(Form).where(Form.slug == "aide"))
        form.closes_at = now + timedelta(hours=10)
        session.commit()
    result = runner.invoke(args=["ops", "detect", "--hours", "24"])
    assert result.exit_code == 0, result.output
    assert "Outage windows in the last 24 h (Pacific/Noumea time): 1" in result.output
    assert "server_errors" in result.output
    assert "15 min" in result.output
    assert "Extensions proposed or widened: 1" in result.output
    with app.app_context():
        [extension] = get_session().scalars(select(DeadlineExtension)).all()
        assert extension.outage_start == burst
    assert runner.invoke(args=["ops", "flush"]).output == "Flushed 0 count(s).\n"
