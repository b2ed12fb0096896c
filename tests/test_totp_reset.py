"""An administrator clears a lost second factor from the command line; it is audited."""

from sqlalchemy import select

from forms_app.db import get_session
from forms_app.models import Event, Role, User
from tests.support import make_user


def test_reset_totp_clears_the_second_factor_and_is_audited(app, runner):
    make_user(app, Role.FINANCE, email="finances@example.nc")
    with app.app_context():
        db = get_session()
        user = db.scalar(select(User))
        user.totp_secret, user.totp_last_step = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", 123
        db.commit()

    result = runner.invoke(args=["users", "reset-totp", "Finances@Example.nc"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db = get_session()
        user = db.scalar(select(User))
        assert (user.totp_secret, user.totp_enrolled_at, user.totp_last_step) == (None, None, None)
        [event] = db.scalars(select(Event).where(Event.action == "totp_reset"))
        assert (event.subject_type, event.subject_id) == ("user", user.id)

    missing = runner.invoke(args=["users", "reset-totp", "nobody@example.nc"])
    assert missing.exit_code != 0 and "No user" in missing.output
