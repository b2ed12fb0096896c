"""schemathesis against the live API: generated requests from the OpenAPI document, sent to
gunicorn over HTTP with a token that may read and act everywhere; no answer may be a server
error, nor stray from the document (status, content type, schema)."""

import subprocess
import sys

from forms_app.models import Role
from tests.api_support import make_token
from tests.faults.processes import Web
from tests.finance_support import approved_request
from tests.payments_support import signed_bordereau
from tests.support import make_user, process_env, submit_directly

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,"
CHECKS += "response_schema_conformance"
EVERYONE = "integration@example.nc"  # every role, so every operation is reachable


def test_schemathesis_finds_no_server_error_nor_schema_violation(app, tmp_path):
    signed_bordereau(app, [150_000])
    approved_request(app)
    submit_directly(app, "aide", {"nom": "SARL CORAIL", "ridet": "1234567001",
                                  "courriel": "corail@example.nc", "montant": 90_000,
                                  "titulaire": "SARL CORAIL",
                                  "iban": "FR7699999000010001234567809"})  # fmt: skip
    make_user(app, Role.ADMIN, Role.AGENT, Role.APPROVER, Role.FINANCE, email=EVERYONE)
    secret = make_token(app, EVERYONE, write=True, name="schemathesis")
    env = process_env(app, GUICHET_API_RATE_LIMIT="100000 per minute")
    web = Web(env, tmp_path / "gunicorn.log").start()
    try:
        run = subprocess.run(
            [
                sys.executable, "-m", "schemathesis.cli", "run",
                f"{web.url}/api/v1/openapi.json", "--url", web.url,
                "--header", f"Authorization: Bearer {secret}",
                "--checks", CHECKS, "--max-examples", "15", "--seed", "20260401",
                "--workers", "1", "--generation-database", "none", "--no-color",
                "--request-timeout", "30", "--phases", "examples,coverage,fuzzing",
            ],
            capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path,
        )  # fmt: skip
    finally:
        web.stop()
    report = run.stdout[:6000] + run.stderr[-3000:]
    assert run.returncode == 0, report + "\n--- gunicorn ---\n" + web.log()[-4000:]
    assert "No issues found" in run.stdout or "passed" in run.stdout, report
