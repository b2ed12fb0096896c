"""Submission references: one sequence per prefix and year, unique under concurrency."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from forms_app.db import get_db
from forms_app.submissions import next_reference


def test_concurrent_first_references_of_a_year_are_all_distinct(app):
    factory = get_db(app).sessionmaker
    when = datetime(2027, 1, 1, tzinfo=UTC)

    def take(_):
        with factory() as session:
            reference = next_reference(session, "AIDE", when)
            session.commit()
            return reference

    with ThreadPoolExecutor(max_workers=8) as pool:
        references = list(pool.map(take, range(24)))
    assert sorted(references) == [f"AIDE-2027-{n:06d}" for n in range(1, 25)]


def test_each_prefix_and_year_has_its_own_sequence(app):
    with get_db(app).sessionmaker() as session:
        first = next_reference(session, "RAPA", datetime(2026, 5, 1, tzinfo=UTC))
        other = next_reference(session, "AIDE", datetime(2026, 5, 1, tzinfo=UTC))
        next_year = next_reference(session, "RAPA", datetime(2027, 1, 1, tzinfo=UTC))
        session.commit()
    assert (first, other, next_year) == ("RAPA-2026-000001", "AIDE-2026-000001", "RAPA-2027-000001")
