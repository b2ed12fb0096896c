"""Dashboard figures: a known dataset on both databases, and their cache."""

import pytest
from redis import Redis

from forms_app import dashboards
from forms_app.db import get_session
from tests.dashboard_support import NOW, compute, known_dataset
from tests.inbox_support import StatementCounter


@pytest.fixture
def known(app):
    return known_dataset(app)


def test_figures_of_all_forms_on_a_known_dataset(app, known):
    data = compute(app)
    assert data["period"] == {"first": "2026-02-19", "last": "2026-03-20", "days": 30}
    per_day = dict(data["submissions_per_day"])
    assert len(per_day) == 30 and sum(per_day.values()) == 8
    assert per_day["2026-03-19"] == 2 and per_day["2026-03-20"] == 1
    assert per_day["2026-03-01"] == per_day["2026-03-05"] == 1
    assert data["funnel"] == {"draft": 9, "submitted": 8, "approved": 3, "paid": 3}
    assert data["backlog"] == {
        "submitted": [3, 0, 0, 0],
        "in_review": [0, 0, 1, 0],
        "changes_requested": [0, 0, 0, 0],
        "proposed": [0, 1, 0, 0],
        "approved": [0, 0, 0, 1],
        "act_issued": [0, 0, 0, 0],
        "signed": [0, 0, 0, 0],
    }
    assert data["median_days_to_payment"] == 10.5
    assert data["payment_delays"] == [1, 1, 1, 0, 0]
    assert data["amounts"] == {
        "envelope": 1_000_000,
        "proposed": 200_000,
        "approved": 530_000,
        "paid": 480_000,
    }
    throughput = data["throughput"]
    assert throughput["weeks"] == [
        "2026-02-16",
        "2026-02-23",
        "2026-03-02",
        "2026-03-09",
        "2026-03-16",
    ]
    assert throughput["agents"] == [
        {"name": "Alice Agent", "actions": [0, 0, 1, 1, 1], "decisions": [0, 0, 0, 1, 0]},
        {"name": "Bob Valideur", "actions": [0, 0, 0, 1, 0], "decisions": [0, 0, 0, 1, 0]},
    ]
    reports = dict(data["problem_reports_per_day"])
    assert reports["2026-02-19"] == 1 and reports["2026-03-19"] == 2 and sum(reports.values()) == 3


def test_figures_of_one_form(app, known):
    data = compute(app, known["a"])
    assert sum(n for _day, n in data["submissions_per_day"]) == 6
    assert data["funnel"] == {"draft": 7, "submitted": 6, "approved": 2, "paid": 2}
    assert data["backlog"]["submitted"] == [2, 0, 0, 0]
    assert data["median_days_to_payment"] == 7.5  # between 4.5 and 10.5
    assert data["payment_delays"] == [1, 1, 0, 0, 0]
    assert data["amounts"] == {
        "envelope": 1_000_000,
        "proposed": 200_000,
        "approved": 450_000,
        "paid": 400_000,
    }
    assert [a["actions"] for a in data["throughput"]["agents"]] == [
        [0, 0, 1, 1, 0],
        [0, 0, 0, 1, 0],
    ]
    assert sum(n for _day, n in data["problem_reports_per_day"]) == 1
    other = compute(app, known["b"])
    assert other["amounts"]["envelope"] is None and other["median_days_to_payment"] == 17.0


def test_median_reads_the_histogram():
    assert dashboards.median_of([]) is None
    assert dashboards.median_of([(40, 1)]) == 4.0
    assert dashboards.median_of([(10, 1), (30, 1), (100, 1)]) == 3.0
    assert dashboards.median_of([(10, 2), (30, 1), (100, 1)]) == 2.0
    assert dashboards.median_of([(10, 1), (30, 3)]) == 3.0


def test_figures_are_cached_for_a_while_then_computed_again(app, known):
    with app.app_context():
        session = get_session()
        first = dashboards.figures(session, NOW, known["a"], days=30)
        with StatementCounter(app) as cached:
            second = dashboards.figures(session, NOW, known["a"], days=30)
        assert second == first and cached.count == 0
        key = dashboards.CACHE_KEY.format(scope=known["a"], days=30)
        ttl = Redis.from_url(app.config["REDIS_URL"]).ttl(key)
        assert 0 < ttl <= app.config["DASHBOARD_CACHE_SECONDS"]
        with StatementCounter(app) as other_period:
            dashboards.figures(session, NOW, known["a"], days=7)
        assert other_period.count > 0


def test_without_redis_the_figures_are_computed(app, known):
    expected = compute(app)
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("guichet.redis", None)
    with app.app_context():
        session = get_session()
        assert dashboards.figures(session, NOW, days=30) == expected
        with StatementCounter(app) as again:
            dashboards.figures(session, NOW, days=30)
        assert again.count > 0
