"""Recording how the transfers of a signed bordereau ended: paid, rejected, the bank's file."""

import threading
from datetime import datetime, timedelta
from email import message_from_bytes, policy

import pytest
from sqlalchemy import func, select

from forms_app import bank_returns, payments
from forms_app.db import get_session
from forms_app.models import ActState, Bordereau, Event, PaymentAct
from forms_app.payment_files import NOUMEA
from forms_app.payments import PaymentError, PaymentInputError
from tests.finance_support import AGENT, FINANCE, IBAN
from tests.payments_support import make_acts, sign_acts, signed_bordereau, staff
from tests.support import run_worker_burst, sent_mails

TODAY = datetime.now(NOUMEA).date()


def run(app, bordereau_id: int, action, email: str = FINANCE):
    """Call `action(session, bordereau, user)` as a request would, and commit."""
    with app.test_request_context():
        db = get_session()
        try:
            result = action(db, db.get(Bordereau, bordereau_id), staff(db, email))
            db.commit()
        finally:
            db.rollback()
        return result


def snapshot(app, bordereau_id: int) -> tuple:
    """The bordereau's state, each line's status and act and request states, the event count."""
    with app.app_context():
        db = get_session()
        bordereau = db.get(Bordereau, bordereau_id)
        lines = [
            (line.status, line.act.state, line.act.submission.state) for line in bordereau.lines
        ]
        return bordereau.state, lines, db.scalar(select(func.count(Event.id)))


def numbers(app, bordereau_id: int) -> list[str]:
    with app.app_context():
        return [line.act_number for line in get_session().get(Bordereau, bordereau_id).lines]


def import_file(app, bordereau_id: int, text: str) -> payments.ImportResult:
    return run(app, bordereau_id, lambda db, b, u: payments.import_return(db, b, u, text.encode()))


def paid_mails(app) -> list:
    found = []
    for path in sent_mails(app):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if message["Subject"].endswith(" : Payée"):
            found.append(message)
    return found


def test_mark_paid_pays_every_transfer_and_tells_each_applicant_once(app):
    bordereau_id = signed_bordereau(app, [150_000, 275_500])
    count = run(app, bordereau_id, lambda db, b, u: payments.mark_paid(db, b, u, TODAY))
    assert count == 2
    state, lines, _events = snapshot(app, bordereau_id)
    assert state == "paid" and lines == [("paid", "paid", "paid")] * 2
    with app.app_context():
        db = get_session()
        bordereau = db.get(Bordereau, bordereau_id)
        assert bordereau.paid_on == TODAY and bordereau.paid_at is not None
        assert all(line.settled_at and line.act.paid_at for line in bordereau.lines)
        references = {line.act.submission.reference for line in bordereau.lines}
        actions = set(db.scalars(select(Event.action).where(Event.actor_id.is_not(None))))
        assert {"pay"} <= actions

    run_worker_burst(app)
    run_worker_burst(app)  # a second pass sends nothing again
    mails = paid_mails(app)
    assert sorted(m["Subject"].split()[2] for m in mails) == sorted(references)
    for mail in mails:
        body = mail.get_content()
        assert "Le paiement a été effectué" in body
        for secret in ("150", "275", "F CFP", "XPF", IBAN, IBAN[:4] + " ", "BCADNCNN"):
            assert secret not in body  # no amount, no bank details

    with pytest.raises(PaymentError, match="déjà payé"):
        run(app, bordereau_id, lambda db, b, u: payments.mark_paid(db, b, u, TODAY))


def test_two_people_marking_the_same_bordereau_paid_at_once_pay_it_once(app):
    bordereau_id = signed_bordereau(app, [150_000])
    barrier, outcomes = threading.Barrier(2), []

    def mark() -> None:
        with app.test_request_context():
            db = get_session()
            barrier.wait()  # both start together, then the bordereau's lock decides
            try:
                payments.mark_paid(db, db.get(Bordereau, bordereau_id), staff(db), TODAY)
                db.commit()
                outcomes.append("paid")
            except PaymentError as exc:
                db.rollback()
                outcomes.append(str(exc))

    threads = [threading.Thread(target=mark) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == [
        "Ce bordereau est déjà payé : tous ses virements sont enregistrés.",
        "paid",
    ]
    with app.app_context():
        events = get_session().scalars(select(Event.action).where(Event.action == "pay")).all()
    assert len(events) == 3  # the request's transition, the act, the bordereau: once each


def test_mark_paid_refuses_bad_dates_other_roles_and_unsigned_bordereaux(app):
    bordereau_id = signed_bordereau(app, [150_000])
    before = snapshot(app, bordereau_id)
    for day, message in (
        (TODAY + timedelta(days=1), "futur"),
        (TODAY - timedelta(days=1), "signature"),
    ):
        with pytest.raises(PaymentInputError, match=message):
            run(app, bordereau_id, lambda db, b, u, day=day: payments.mark_paid(db, b, u, day))
    with pytest.raises(PaymentError, match="direction des finances"):
        run(app, bordereau_id, lambda db, b, u: payments.mark_paid(db, b, u, TODAY), AGENT)
    assert snapshot(app, bordereau_id) == before

    unsigned = sign_acts(app, make_acts(app, [90_000]), signed=False)
    with pytest.raises(PaymentError, match="pas signé"):
        run(app, unsigned, lambda db, b, u: payments.mark_paid(db, b, u, TODAY))


def test_a_rejected_transfer_goes_back_to_finance_and_can_be_paid_later(app):
    bordereau_id = signed_bordereau(app, [150_000, 275_500])
    with app.app_context():
        rejected_id, _kept = [
            line.act_id for line in get_session().get(Bordereau, bordereau_id).lines
        ]

    def reject(act_id: int, reason: str):
        return lambda db, b, u: payments.reject_act(db, b, db.get(PaymentAct, act_id), u, reason)

    with pytest.raises(PaymentInputError, match="motif"):
        run(app, bordereau_id, reject(rejected_id, "  "))
    run(app, bordereau_id, reject(rejected_id, "Compte clôturé  (code AC04)"))
    state, lines, _events = snapshot(app, bordereau_id)
    assert state == "signed"
    assert lines == [("rejected", "rejected", "act_issued"), ("pending", "signed", "signed")]
    with app.app_context():
        db = get_session()
        act = db.get(PaymentAct, rejected_id)
        assert act.bordereau_id is None and act.rejection_reason == "Compte clôturé (code AC04)"
        assert db.get(Bordereau, bordereau_id).lines[0].reason == act.rejection_reason
        available = db.scalars(
            select(PaymentAct.id).where(
                PaymentAct.state.in_([ActState.ISSUED, ActState.REJECTED]),
                PaymentAct.bordereau_id.is_(None),
            )
        ).all()
        assert available == [rejected_id]  # what the finance index offers for a new bordereau
    with pytest.raises(PaymentError, match="pas en attente"):
        run(app, bordereau_id, reject(rejected_id, "Deux fois"))

    run(app, bordereau_id, lambda db, b, u: payments.mark_paid(db, b, u, TODAY))
    state, lines, _events = snapshot(app, bordereau_id)
    assert state == "paid" and [line[0] for line in lines] == ["rejected", "paid"]

    again = sign_acts(app, [rejected_id])
    run(app, again, lambda db, b, u: payments.mark_paid(db, b, u, TODAY))
    assert snapshot(app, again)[:2] == ("paid", [("paid", "paid", "paid")])
    with app.app_context():
        assert get_session().get(PaymentAct, rejected_id).bordereau_id == again


def test_a_bank_return_file_records_payments_and_rejections_once(app):
    bordereau_id = signed_bordereau(app, [150_000, 275_500, 90_000])
    first, second, third = numbers(app, bordereau_id)
    text = (
        "\ufeffMandat;Statut;Date;Motif\r\n"
        f"{first};payé;{TODAY:%d/%m/%Y};\r\n"
        f"{second};Rejeté;{TODAY:%d/%m/%Y};Compte clos (AC04)\r\n"
        "\r\n"
        f"{third};paid;{TODAY.isoformat()};\r\n"
    )
    result = import_file(app, bordereau_id, text)
    assert (result.paid, result.rejected, result.unchanged, result.errors) == (2, 1, 0, [])
    with app.test_request_context():
        assert result.summary() == "2 payés, 1 rejeté"
    state, lines, events = snapshot(app, bordereau_id)
    assert state == "paid"
    assert lines == [
        ("paid", "paid", "paid"),
        ("rejected", "rejected", "act_issued"),
        ("paid", "paid", "paid"),
    ]
    with app.app_context():
        bordereau = get_session().get(Bordereau, bordereau_id)
        assert bordereau.paid_on == TODAY and bordereau.lines[1].reason == "Compte clos (AC04)"

    again = import_file(app, bordereau_id, text)
    assert (again.paid, again.rejected, again.unchanged, again.errors) == (0, 0, 3, [])
    assert snapshot(app, bordereau_id) == (state, lines, events)  # nothing changed

    conflict = import_file(
        app, bordereau_id, f"mandat;statut;date;motif\n{first};rejeté;{TODAY};Erreur\n"
    )
    assert conflict.errors == [f"Ligne 2 : le mandat {first} est déjà enregistré comme payé."]


def test_a_partial_english_return_leaves_the_rest_pending(app):
    bordereau_id = signed_bordereau(app, [150_000, 275_500])
    first, _second = numbers(app, bordereau_id)
    result = import_file(
        app, bordereau_id, f"EndToEndId,Status,Date,Reason\n{first},paid,{TODAY},\n"
    )
    assert (result.paid, result.rejected) == (1, 0)
    assert snapshot(app, bordereau_id)[:2] == (
        "signed",
        [("paid",) * 3, ("pending", "signed", "signed")],
    )
    assert run(app, bordereau_id, lambda db, b, u: payments.mark_paid(db, b, u, TODAY)) == 1
    assert snapshot(app, bordereau_id)[0] == "paid"


def test_a_return_file_with_errors_changes_nothing_and_says_where(app):
    bordereau_id = signed_bordereau(app, [150_000, 275_500])
    first, second = numbers(app, bordereau_id)
    elsewhere = make_acts(app, [90_000])
    with app.app_context():
        other = get_session().get(PaymentAct, elsewhere[0]).number
    before = snapshot(app, bordereau_id)
    tomorrow = TODAY + timedelta(days=1)
    text = "\n".join(
        [
            "mandat;statut;date;motif",
            f"{first};payé;{TODAY:%d/%m/%Y};",  # valid, but not applied
            "2026-999999;payé;01/04/2026;",
            f"{other};payé;{TODAY:%d/%m/%Y};",
            f"{first};payé;{TODAY:%d/%m/%Y};",
            f"{second};remboursé;31/02/2026;",
            f"{second};rejeté;{tomorrow:%d/%m/%Y};",
        ]
    )
    result = import_file(app, bordereau_id, text)
    assert result.errors == [
        "Ligne 3 : la date précède la signature du bordereau.",
        "Ligne 3 : le mandat 2026-999999 est inconnu.",
        f"Ligne 4 : le mandat {other} n’est pas sur ce bordereau.",
        f"Ligne 5 : le mandat {first} figure déjà ligne 2.",
        "Ligne 6 : statut « remboursé » inconnu (attendu : payé ou rejeté).",
        "Ligne 6 : date « 31/02/2026 » invalide (attendu : JJ/MM/AAAA).",
        f"Ligne 7 : le mandat {second} figure déjà ligne 6.",
        "Ligne 7 : un rejet doit indiquer son motif.",
    ]
    assert snapshot(app, bordereau_id) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"mandat;statut;date;motif\n" + b"x" * bank_returns.MAX_BYTES, "dépasse 2 Mo"),
        ("mandat;statut;date\n2026-000001;payé;01/04/2026\n".encode("latin-1"), "UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "UTF-8"),
        (b"  \n", "vide"),
        (
            b"mandat;date\n2026-000001;01/04/2026\n",
            "Ligne 1 : colonnes attendues absentes : statut, motif.",
        ),
        (b"mandat;statut;date;motif\n", "aucune ligne"),
        (
            b'mandat;statut;date;motif\n"2026-000001;paid\n',
            "Ligne 2 : le fichier n’est pas un CSV lisible",
        ),
    ],
)
def test_unreadable_return_files_are_refused(app, content, message):
    with app.test_request_context():
        rows, errors = bank_returns.parse(content)
    assert rows == [] and len(errors) == 1 and message in errors[0][1]


def test_an_unsigned_bordereau_takes_no_return_file(app):
    bordereau_id = sign_acts(app, make_acts(app, [90_000]), signed=False)
    [number] = numbers(app, bordereau_id)
    result = import_file(app, bordereau_id, f"mandat;statut;date;motif\n{number};payé;{TODAY};\n")
    assert result.errors == ["Ce bordereau n’est pas signé : aucun paiement n’a été ordonné."]
