"""Bordereaux: building (refusals, locks, numbering), rendering once, discarding."""

import hashlib
import threading

import pytest
from sqlalchemy import func, select

from forms_app import bordereaux
from forms_app.amount_words import amount_in_words
from forms_app.db import get_session
from forms_app.models import (
    ActState,
    Bordereau,
    BordereauState,
    Event,
    NumberSeries,
    OutboxMessage,
)
from tests.bordereau_support import (
    acts,
    build,
    load,
    pdf_pages,
    render,
    unrendered_act,
    user_by_email,
    words_in_stamp_box,
)
from tests.finance_support import (
    AGENT,
    FINANCE,
    FINANCE2,
    issued_act,
    publish_payment_form,
)


@pytest.fixture
def form(app):
    return publish_payment_form(app)


def refusal(app, act_ids, email: str = FINANCE) -> bordereaux.BordereauError:
    with app.test_request_context():
        db = get_session()
        with pytest.raises(bordereaux.BordereauError) as caught:
            bordereaux.build(db, act_ids, user_by_email(db, email))
        db.rollback()
        return caught.value


def bordereau_count(app) -> int:
    with app.app_context():
        return get_session().scalar(select(func.count()).select_from(Bordereau))


def test_build_lists_the_acts_with_their_hashes_and_queues_the_render(app, form):
    ids = [issued_act(app, amount=amount) for amount in (150_000, 200_000, 1_000)]
    made = load(app, build(app, ids))
    listed = acts(app, ids)

    assert made.number.endswith("-000001") and made.sequence == 1
    assert made.state == BordereauState.OPEN
    assert (made.act_count, made.total) == (3, 351_000)
    assert [line.act_number for line in made.lines] == sorted(act.number for act in listed)
    assert {line.act_sha256 for line in made.lines} == {act.pdf_sha256 for act in listed}
    assert all(act.bordereau_id == made.id and act.state == ActState.ISSUED for act in listed)
    assert made.details["budget"] == "Budget principal"
    assert made.details["signataire"].startswith("Pour la présidente et par délégation")
    with app.app_context():
        db = get_session()
        event = db.scalar(select(Event).where(Event.subject_type == "bordereau"))
        assert (event.action, event.to_state) == ("build", "open")
        assert event.details["acts"] == [line.act_number for line in made.lines]
        job = db.scalar(select(OutboxMessage).where(OutboxMessage.job == "render_bordereau"))
        assert job.args == {"bordereau_id": made.id}


def test_build_refuses_an_empty_selection_and_unknown_acts(app, form):
    act = issued_act(app)
    assert refusal(app, []).status == 400
    error = refusal(app, [act, act + 1000])
    assert (str(error), error.status) == ("Certains actes sélectionnés n’existent pas.", 422)
    assert bordereau_count(app) == 0


def test_build_refuses_two_budgets_in_one_bordereau(app, form):
    publish_payment_form(app, slug="annexe", budget="Budget annexe des transports")
    first = issued_act(app)
    other = issued_act(app, slug="annexe")
    error = refusal(app, [first, other])
    assert error.status == 422
    assert "un budget et un exercice" in str(error)
    assert "Budget annexe des transports" in str(error) and "Budget principal" in str(error)
    assert bordereau_count(app) == 0
    assert all(act.bordereau_id is None for act in acts(app, [first, other]))


def test_build_refuses_an_act_already_on_a_bordereau(app, form):
    first, second = issued_act(app), issued_act(app)
    build(app, [first])
    error = refusal(app, [first, second])
    listed = acts(app, [first, second])
    assert error.status == 409 and listed[0].number in str(error)
    assert listed[1].number not in str(error)
    assert bordereau_count(app) == 1 and listed[1].bordereau_id is None


def test_build_refuses_an_act_whose_pdf_is_not_rendered(app, form):
    ready, waiting = issued_act(app), unrendered_act(app)
    error = refusal(app, [ready, waiting])
    assert "encore en préparation" in str(error)
    assert acts(app, [waiting])[0].number in str(error)
    assert bordereau_count(app) == 0


def test_only_finance_staff_build(app, form):
    act = issued_act(app)
    assert refusal(app, [act], email=AGENT).status == 403


def test_concurrent_builds_put_each_act_on_one_bordereau(app, form):
    """The first builder holds its locks; the second waits for them, then finds the acts taken."""
    ids = [issued_act(app) for _ in range(3)]
    built, release = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def first():
        with app.test_request_context():
            db = get_session()
            made = bordereaux.build(db, ids, user_by_email(db, FINANCE))
            built.set()
            release.wait(10)
            db.commit()
            outcomes["first"] = made.id

    def second():
        built.wait(10)
        with app.test_request_context():
            db = get_session()
            try:
                outcomes["second"] = bordereaux.build(db, ids[::-1], user_by_email(db, FINANCE2))
                db.commit()
            except bordereaux.BordereauError as error:
                db.rollback()
                outcomes["second"] = error

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    built.wait(10)
    threads[1].join(1.0)
    assert threads[1].is_alive(), "the second build must wait for the first one's locks"
    release.set()
    for thread in threads:
        thread.join(30)

    assert isinstance(outcomes["second"], bordereaux.BordereauError)
    assert {act.bordereau_id for act in acts(app, ids)} == {outcomes["first"]}
    with app.app_context():
        db = get_session()
        assert db.scalar(select(func.count()).select_from(Bordereau)) == 1
        series = db.scalar(select(NumberSeries).where(NumberSeries.kind == "bordereau"))
        assert series.last_value == 1  # the refused build gave its number back


def test_numbers_are_gap_free_and_never_reused(app, form):
    ids = [issued_act(app) for _ in range(3)]
    first = build(app, [ids[0]])
    refusal(app, [ids[0], ids[1]])  # refused: takes no number
    with app.test_request_context():
        db = get_session()
        bordereaux.discard(db, db.get(Bordereau, first), user_by_email(db, FINANCE), "Erreur")
        db.commit()
    second = build(app, [ids[0], ids[1]])  # the discarded one's acts are free again
    third = build(app, [ids[2]])
    numbers = [load(app, ident) for ident in (first, second, third)]
    assert [made.sequence for made in numbers] == [1, 2, 3]
    assert len({made.number for made in numbers}) == 3
    assert numbers[0].state == BordereauState.CANCELLED


def test_discard_frees_the_acts_and_keeps_the_number(app, form):
    ids = [issued_act(app) for _ in range(2)]
    made = build(app, ids)
    with app.test_request_context():
        db = get_session()
        found, user = db.get(Bordereau, made), user_by_email(db, FINANCE)
        with pytest.raises(bordereaux.BordereauError):
            bordereaux.discard(db, found, user, "  ")
        bordereaux.discard(db, found, user, "Montant à revoir")
        db.commit()
        event = db.scalars(select(Event).where(Event.action == "discard")).one()
        assert event.details == {"reason": "Montant à revoir"}
        with pytest.raises(bordereaux.BordereauError, match="Seul un bordereau ouvert"):
            bordereaux.discard(db, found, user, "Encore")
    found = load(app, made)
    assert found.state == BordereauState.CANCELLED and found.cancelled_at is not None
    assert found.details["cancel_reason"] == "Montant à revoir"
    assert len(found.lines) == 2  # what it listed stays on record
    assert all(act.bordereau_id is None for act in acts(app, ids))
    with app.app_context():
        assert [act.id for act in bordereaux.awaiting(get_session())] == ids


def test_the_pdf_lists_every_act_with_its_hash_and_the_total_in_words(app, form, tmp_path):
    ids = [issued_act(app, amount=100_000 + n, name=f"SARL LAGON {n:02d}") for n in range(16)]
    made = build(app, ids)
    content = render(app, made)
    found, listed = load(app, made), acts(app, ids)

    assert found.pdf_sha256 == hashlib.sha256(content).hexdigest()
    assert render(app, made) == content  # stored once, read back after
    pages = pdf_pages(content, tmp_path)
    assert len(pages) >= 2
    text = "\n".join(pages)
    head = " ".join(pages[0].split())
    assert "BORDEREAU DE MANDATS" in head and f"N° {found.number}" in head
    assert "PROVINCE SUD — Nouvelle-Calédonie" in head and "Exercice 2" in head
    assert "Comptable assignataire : Payeur de la province Sud" in head
    for page in pages[:-1]:  # the table header is repeated on every page of the list
        flat = " ".join(page.split())
        assert "SHA-256 du mandat" in flat and "N° mandat Dossier" in flat
    lines = set(text.split("\n"))
    for act in listed:
        assert act.number in lines and act.details["dossier_no"] in lines
        assert act.beneficiary["name"] in lines and "1234567.001" in lines
        assert all(act.pdf_sha256[n : n + 16] in lines for n in range(0, 64, 16))
    total = sum(act.amount for act in listed)
    assert found.total == total
    words = " ".join(pages[-1].split())
    assert amount_in_words(total) in words
    assert (
        "La signature du présent bordereau vaut ordre de payer les mandats qu’il contient" in words
    )
    assert "Signature de l’ordonnateur" in words and "par délégation" in words
    assert words_in_stamp_box(content, tmp_path) == []


def test_a_one_act_bordereau_leaves_the_signature_box_empty(app, form, tmp_path):
    content = render(app, build(app, [issued_act(app)]))
    assert len(pdf_pages(content, tmp_path)) == 1
    assert words_in_stamp_box(content, tmp_path) == []


def test_a_second_render_keeps_the_first_stored_file(app, form):
    made = build(app, [issued_act(app)])
    first = render(app, made)
    with app.app_context():
        db = get_session()
        assert db.get(Bordereau, made).pdf_key
        again = bordereaux.render_bordereau_pdf(db, made)
    assert again == first
    with app.app_context(), pytest.raises(LookupError):
        bordereaux.render_bordereau_pdf(get_session(), made + 1)


def test_amounts_past_two_billion_francs_are_kept_exactly(app, tmp_path):
    """A province-wide bordereau passes 2^31 F CFP; so may one act (amounts are 64-bit)."""
    publish_payment_form(app, budget_envelope=10**12, approval_threshold=10**12)
    amounts = [2_200_000_000, 1_500_000_001]
    ids = [
        issued_act(app, amount=amount, name=f"SAS NICKEL {n}") for n, amount in enumerate(amounts)
    ]
    made = build(app, ids)
    content = render(app, made)

    found, listed = load(app, made), acts(app, ids)
    assert sorted(act.amount for act in listed) == sorted(amounts)
    assert found.total == 3_700_000_001 > 2**31
    assert [line.amount for line in found.lines] == [act.amount for act in listed]
    words = " ".join(" ".join(pdf_pages(content, tmp_path)).split())
    assert amount_in_words(3_700_000_001) in words
    assert "3 700 000 001" in words.replace("\u202f", " ").replace("\u00a0", " ")
