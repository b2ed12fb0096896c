"""API tokens and calls for the API tests."""

from sqlalchemy import select

from forms_app.api import tokens
from forms_app.db import get_session
from forms_app.models import Form, User


def make_token(app, email: str, *, write: bool = False, forms: list[str] | None = None,
               name: str = "Cellule rapatriement") -> str:  # fmt: skip
    """A token acting as the staff account `email` (forms: slugs, None for all); its secret."""
    with app.app_context():
        db = get_session()
        user = db.scalar(select(User).where(User.email == email))
        chosen = None
        if forms is not None:
            chosen = list(db.scalars(select(Form).where(Form.slug.in_(forms))))
        _token, secret = tokens.create(
            db, name=name, user=user, write=write, forms=chosen, actor=user
        )
        db.commit()
        return secret


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}
