"""Portal views."""

from flask import render_template

from forms_app.public import bp


@bp.get("/")
def index():
    """List the procedures open to the public."""
    return render_template("public/index.html", forms=[])
