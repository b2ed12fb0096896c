"""Signed bordereaux for the payment tests, made directly (not through the signing pages)."""

from sqlalchemy import select

from forms_app import payment_numbers
from forms_app.db import get_session, utcnow
from forms_app.models import (
    ActState,
    Bordereau,
    BordereauLine,
    BordereauState,
    Form,
    PaymentAct,
    Submission,
    User,
)
from tests.finance_support import FINANCE, issued_act, publish_payment_form
from workflows.states import Action

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # a base32 TOTP secret (no code is ever asked here)
NAMES = ("SARL LAGON BLEU TOURS", "EURL CAFÉ DE LA BAIE", "SAS NAVIMON", "SNC LES MANGROVES")


def make_acts(app, amounts: list[int]) -> list[int]:
    """Issue one act per amount (one approved request each); their ids."""
    if get_form_slug(app) is None:
        publish_payment_form(app)
    return [
        issued_act(app, amount=amount, name=NAMES[index % len(NAMES)])
        for index, amount in enumerate(amounts)
    ]


def get_form_slug(app) -> str | None:
    with app.app_context():
        return get_session().scalar(select(Form.slug).where(Form.slug == "aide"))


def sign_acts(app, act_ids: list[int], signer: str = FINANCE, *, signed: bool = True) -> int:
    """Put these acts on a new bordereau signed by `signer`, in one transaction; its id.

    With signed=False the bordereau stays open (built, not signed) and the acts issued.
    """
    with app.test_request_context():
        db = get_session()
        user = db.scalar(select(User).where(User.email == signer))
        acts = [db.get(PaymentAct, act_id) for act_id in act_ids]
        code, year = acts[0].budget_code, acts[0].year
        sequence, number = payment_numbers.next_number(db, payment_numbers.BORDEREAU, code, year)
        now = utcnow()
        bordereau = Bordereau(
            number=number,
            budget_code=code,
            year=year,
            sequence=sequence,
            state=(BordereauState.SIGNED if signed else BordereauState.OPEN).value,
            act_count=len(acts),
            total=sum(act.amount for act in acts),
            created_by_id=user.id,
            signer_id=user.id if signed else None,
            signed_at=now if signed else None,
        )
        db.add(bordereau)
        db.flush()
        for act in acts:
            db.add(
                BordereauLine(
                    bordereau_id=bordereau.id,
                    act_id=act.id,
                    act_number=act.number,
                    amount=act.amount,
                    act_sha256=act.pdf_sha256,
                )
            )
            act.bordereau_id = bordereau.id
            if signed:
                act.state = ActState.SIGNED.value
                db.get(Submission, act.submission_id).apply(db, Action.SIGN, user)
        db.commit()
        return bordereau.id


def signed_bordereau(app, amounts: list[int] = (150_000, 275_500)) -> int:
    """A bordereau of fresh acts (one per amount), signed by finance; its id."""
    return sign_acts(app, make_acts(app, list(amounts)))


def second_factor(app, email: str = FINANCE) -> None:
    """Enrol finance staff in the second factor the finance area requires, directly."""
    with app.app_context():
        db = get_session()
        user = staff(db, email)
        user.totp_secret, user.totp_enrolled_at = SECRET, utcnow()
        db.commit()


def staff(db, email: str = FINANCE) -> User:
    """A staff user by e-mail, in this session."""
    return db.scalar(select(User).where(User.email == email))


def load(app, model, ident):
    with app.app_context():
        return get_session().get(model, ident)
