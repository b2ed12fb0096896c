"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from forms_app import create_app

app = create_app()
