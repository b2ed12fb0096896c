"""The S3 backend when things go wrong: store away, bucket missing, configuration incomplete."""

import time
import uuid

import pytest

from forms_app import create_app, storage
from forms_app.config import ConfigError
from forms_app.embedded_redis import free_port
from tests.storage_support import PREFIX, aws_env, moto_endpoint, raw_client  # noqa: F401
from tests.test_applicant_space import first_file_id, make_submission, publish_space_form, sign_in

PDF = b"%PDF-1.4\n%%EOF\n"
SHA = "0" * 64


@pytest.fixture
def s3_config(app_config, moto_endpoint, monkeypatch, tmp_path):  # noqa: F811
    aws_env(monkeypatch, tmp_path)
    bucket = f"guichet-{uuid.uuid4().hex[:12]}"
    raw_client(moto_endpoint).create_bucket(Bucket=bucket)
    return {
        **app_config,
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT_URL": moto_endpoint,
        "S3_BUCKET": bucket,
        "S3_PREFIX": PREFIX,
    }


def test_an_unreachable_store_does_not_stop_startup_but_fails_clearly(s3_config, client):
    """Same database, store away: the app starts, stores fail, downloads answer 503."""
    publish_space_form(client.application)
    reference = make_submission(client.application, with_file=True)
    file_id = first_file_id(client.application, reference)

    away = create_app({**s3_config, "S3_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"})
    with away.app_context():
        started = time.monotonic()
        with pytest.raises(storage.StorageUnavailable, match="EndpointConnectionError"):
            storage.store(PDF, SHA)
        assert time.monotonic() - started < 30  # bounded retries, no hanging
        with pytest.raises(storage.StorageUnavailable):
            storage.check()
    visitor = away.test_client()
    sign_in(away, visitor)
    answer = visitor.get(f"/mon-espace/demandes/{reference}/pieces/{file_id}")
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "30"
    assert "Traceback" not in answer.text and "EndpointConnectionError" not in answer.text
    assert "indisponible" in answer.text.lower()


def test_a_missing_bucket_is_named_in_the_error(s3_config, tmp_path):
    app = create_app({**s3_config, "S3_BUCKET": "guichet-no-such-bucket"})
    with app.app_context():
        with pytest.raises(storage.StorageUnavailable, match="guichet-no-such-bucket"):
            storage.store(PDF, SHA)
        with pytest.raises(storage.StorageUnavailable, match="does not exist"):
            storage.read(f"00/{SHA}")
        with pytest.raises(storage.StorageUnavailable, match="does not exist"):
            storage.check()


def test_missing_credentials_are_unavailable_not_missing(s3_config, monkeypatch):
    """No credentials at all: the store is unusable, which must not read as "no such file"."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "")
    app = create_app(s3_config)
    with app.app_context(), pytest.raises(storage.StorageUnavailable, match="NoCredentials"):
        storage.exists(f"00/{SHA}")


def test_the_bucket_answers_the_readiness_check(s3_config):
    app = create_app(s3_config)
    with app.app_context():
        storage.check()
        assert storage.backend() is storage.backend()  # one backend per app
        assert storage.backend().object_name(f"00/{SHA}") == f"{PREFIX}00/{SHA}"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"STORAGE_BACKEND": "s3", "S3_BUCKET": None}, "S3_BUCKET is not set"),
        ({"STORAGE_BACKEND": "ftp"}, "must be 'filesystem' or 's3'"),
    ],
)
def test_an_incomplete_configuration_is_refused_at_startup(app_config, overrides, message):
    with pytest.raises(ConfigError, match=message):
        create_app({**app_config, **overrides})
