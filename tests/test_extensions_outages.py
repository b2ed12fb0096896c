"""The platform proposes an extension when an outage window hits the last hours before closing."""

from datetime import timedelta

from sqlalchemy import func, select

from forms_app import extensions, ops_evidence, outages
from forms_app.db import get_session, utcnow
from forms_app.filters import local_time
from forms_app.models import (
    DeadlineExtension,
    Event,
    ExtensionStatus,
    Form,
    ProblemReport,
    Role,
    User,
)
from tests.extension_support import closing_form
from tests.support import make_user

WIDTH = timedelta(minutes=15)


def bucket(moment):
    return ops_evidence.bucket_start(moment, 15)


def quiet_day(app, until) -> None:
    """A day of ordinary traffic before `until`: requests, a stray error now and then."""
    moment = bucket(until) - timedelta(days=1)
    while moment < until:
        ops_evidence.count(app, ops_evidence.REQUESTS, n=120, at=moment)
        if moment.minute == 0 and moment.hour % 3 == 0:
            ops_evidence.count(app, ops_evidence.SERVER_ERRORS, at=moment)
        moment += WIDTH


def burst(app, start, buckets: int, reports: int = 4) -> None:
    """Many 5xx answers and problem reports in `buckets` quarters of an hour from `start`."""
    with app.app_context():
        session = get_session()
        for i in range(buckets):
            moment = start + i * WIDTH
            ops_evidence.count(
                app, ops_evidence.SERVER_ERRORS, n=45, at=moment + timedelta(minutes=3)
            )
            for k in range(reports):
                created = moment + timedelta(minutes=2 + 3 * k)
                session.add(
                    ProblemReport(page="/demarches/aide/", description="Erreur", created_at=created)
                )
        session.commit()
    ops_evidence.flush(app)


def propose(app) -> list[int]:
    with app.app_context():
        session = get_session()
        made = [e.id for e in extensions.propose_for_outages(session, utcnow())]
        session.commit()
        return made


def proposals(app) -> list[DeadlineExtension]:
    with app.app_context():
        return list(get_session().scalars(select(DeadlineExtension).order_by(DeadlineExtension.id)))


def test_a_burst_before_closing_is_detected_and_an_extension_proposed(app):
    """ACCEPTANCE: the window is found; the proposal is closes_at + max(24 h, its length)."""
    form_id = closing_form(app, "aide", timedelta(hours=3))
    other_id = closing_form(app, "lointaine", timedelta(days=10), title="Lointaine")
    start = bucket(utcnow() - timedelta(hours=5))
    quiet_day(app, start)
    burst(app, start, buckets=3)

    with app.app_context():
        session = get_session()
        closes_at = session.get(Form, form_id).closes_at
        span = timedelta(hours=app.config["EXTENSION_WINDOW_HOURS"])
        [window] = outages.windows(session, closes_at - span, closes_at, app.config)
        assert (window.start, window.end) == (start, start + 3 * WIDTH)
        assert window.reasons == ("server_errors", "problem_reports")

    assert len(propose(app)) == 1
    [proposal] = proposals(app)
    assert proposal.form_id == form_id  # not the form closing in ten days
    assert proposal.status is ExtensionStatus.PROPOSED and proposal.proposed_by_id is None
    assert (proposal.outage_start, proposal.outage_end) == (start, start + 3 * WIDTH)
    assert proposal.previous_closes_at == closes_at
    assert proposal.new_closes_at == closes_at + timedelta(hours=24)  # 45 min < 24 h
    assert proposal.reason == (
        f"Incident de la plateforme détecté du {local_time(start)} au "
        f"{local_time(start + 3 * WIDTH)} (heure de Nouméa) : erreurs du serveur, "
        "signalements de problèmes"
    )
    with app.app_context():
        event = get_session().scalar(select(Event).where(Event.action == "extension_proposed"))
        assert (event.subject_id, event.actor_id) == (form_id, None)
        assert get_session().get(Form, other_id).closes_at > closes_at

    # Running it again proposes nothing new.
    assert propose(app) == []
    assert len(proposals(app)) == 1


def test_a_long_outage_extends_by_its_length_and_a_growing_one_widens_the_proposal(app):
    form_id = closing_form(app, "aide", timedelta(hours=2))
    start = bucket(utcnow() - timedelta(hours=40))
    quiet_day(app, start)
    burst(app, start, buckets=4 * 30, reports=0)  # thirty hours of errors
    [first] = propose(app)
    [proposal] = proposals(app)
    closes_at = proposal.previous_closes_at
    assert proposal.new_closes_at == closes_at + timedelta(hours=30)

    burst(app, start + 4 * 30 * WIDTH, buckets=8, reports=0)  # it went on two more hours
    assert propose(app) == [first]
    [proposal] = proposals(app)
    assert proposal.outage_end == start + 4 * 32 * WIDTH
    assert proposal.new_closes_at == closes_at + timedelta(hours=32)
    with app.app_context():
        actions = (
            get_session()
            .scalars(select(Event.action).where(Event.subject_id == form_id).order_by(Event.id))
            .all()
        )
        assert actions[-2:] == ["extension_proposed", "extension_updated"]


def test_a_declined_or_granted_proposal_is_not_proposed_again(app):
    admin_id = make_user(app, Role.ADMIN, email="admin@example.nc")
    form_id = closing_form(app, "aide", timedelta(hours=3))
    start = bucket(utcnow() - timedelta(hours=5))
    quiet_day(app, start)
    burst(app, start, buckets=2)
    [proposal_id] = propose(app)
    with app.app_context():
        session = get_session()
        proposal = session.get(DeadlineExtension, proposal_id)
        extensions.decline(session, proposal, session.get(User, admin_id), "Fausse alerte")
        session.commit()
    burst(app, start + 2 * WIDTH, buckets=1)  # the same window, a little longer
    assert propose(app) == []

    # A new outage after the extension was granted is a new proposal; the old one is not.
    with app.app_context():
        session = get_session()
        form = session.get(Form, form_id)
        granted = extensions.extend(
            session,
            form,
            form.closes_at + timedelta(hours=24),
            "Panne",
            session.get(User, admin_id),
            utcnow(),
        )
        session.commit()
        assert granted.status is ExtensionStatus.GRANTED
    later = bucket(utcnow() - timedelta(hours=2))
    burst(app, later, buckets=2)
    [new_id] = propose(app)
    with app.app_context():
        session = get_session()
        made = session.get(DeadlineExtension, new_id)
        assert made.outage_start == later
        assert made.previous_closes_at == session.get(Form, form_id).closes_at
        assert session.scalar(select(func.count()).select_from(DeadlineExtension)) == 3
    assert propose(app) == []


def test_an_outage_far_from_any_deadline_proposes_nothing(app):
    closing_form(app, "aide", timedelta(days=5))
    start = bucket(utcnow() - timedelta(hours=5))
    quiet_day(app, start)
    burst(app, start, buckets=3)
    assert propose(app) == []
