"""Staff steps of the processing chain through HTTP, as browsers make them (CSRF on)."""

from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import Bordereau, PaymentAct
from tests.faults.client import Client
from tests.support import PASSWORD, next_code

FINANCE_HOME = "/agents/finances/"


def signed_in(base: str, email: str) -> Client:
    client = Client(base)
    client.login(email, PASSWORD)
    return client


def casework(client: Client, reference: str, action: str, **fields) -> None:
    """Post one action of the dossier page (take, propose_accept, approve…) at its revision."""
    page = f"/agents/demandes/{reference}"
    data = {f"{action}-{key}": value for key, value in fields.items()}
    answer = client.form(page, f"{page}/traitement/{action}", data)
    assert answer.status == 302, (action, answer.status, answer.text[-2000:])


def build_bordereau(client: Client, act_ids: list[int]) -> str:
    """List these acts on a new bordereau; the bordereau page's path."""
    answer = client.form(
        FINANCE_HOME, "/agents/finances/bordereaux", {"acts": act_ids, "action": "build"}
    )
    assert answer.status == 302, answer.text[-2000:]
    return answer.location


def sign(client: Client, bordereau: str) -> None:
    """Sign the bordereau: the password and a code again."""
    data = {"password": PASSWORD, "code": next_code(client.email)}
    answer = client.form(bordereau, f"{bordereau}/signature", data)
    assert answer.status == 302, answer.text[-2000:]


def mark_paid(client: Client, bordereau: str) -> None:
    """Record every transfer of the bordereau as paid today (the form's default date)."""
    answer = client.form(f"{bordereau}/paiement", f"{bordereau}/paiement", {})
    assert answer.status == 302, answer.text[-2000:]


def acts(app) -> list[tuple[int, str, str | None]]:
    """(id, number, PDF key) of every payment act."""
    with app.app_context():
        session = get_session()
        found = session.execute(select(PaymentAct.id, PaymentAct.number, PaymentAct.pdf_key))
        rows = [tuple(row) for row in found]
        session.rollback()
        return rows


def bordereau_rendered(app) -> bool:
    with app.app_context():
        session = get_session()
        keys = session.scalars(select(Bordereau.pdf_key)).all()
        session.rollback()
        return bool(keys) and all(keys)
