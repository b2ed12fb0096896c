"""Fixtures of the storage tests: each backend for real, S3 on a local moto server process.

Import the fixtures into a test module (`from tests.storage_support import ...`). The `app`
of such a module stores its files on the filesystem ([filesystem]) or in a bucket of its own
on the moto server ([s3]); `medium` reads and lists what is really stored, bypassing
`forms_app.storage`, so the tests check the store itself.
"""

import ctypes
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest

from forms_app.embedded_redis import free_port, is_listening
from tests.support import stop_process, wait_until

CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "guichet-test",
    "AWS_SECRET_ACCESS_KEY": "guichet-test-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
PREFIX = "guichet/"


_SERVER: dict = {}  # one moto server per run, whichever test module asks first


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    """URL of a moto S3 server, a process of its own on a free port, for the whole run."""
    if "url" not in _SERVER:
        port = free_port()
        log = tmp_path_factory.mktemp("moto") / "moto.log"
        with log.open("w") as output:
            server = subprocess.Popen(
                [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1",
                 "-p", str(port)],
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )  # fmt: skip
        try:
            wait_until(lambda: is_listening(port) or server.poll() is not None, timeout=60)
            assert server.poll() is None, log.read_text()[-2000:]
        except BaseException:
            stop_process(server)
            raise
        _SERVER.update(process=server, url=f"http://127.0.0.1:{port}")
    yield _SERVER["url"]
    if _SERVER:  # session teardown: the first module's finaliser stops it
        stop_process(_SERVER.pop("process"))
        _SERVER.clear()


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the test run dies without its teardown (Linux)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def raw_client(endpoint: str):
    """A boto3 client of its own, for the tests to look at the bucket directly."""
    keys = {"aws_access_key_id": CREDENTIALS["AWS_ACCESS_KEY_ID"]}
    keys["aws_secret_access_key"] = CREDENTIALS["AWS_SECRET_ACCESS_KEY"]
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", **keys)


def aws_env(monkeypatch, tmp_path) -> None:
    """Dummy credentials for boto3's default chain; no shared AWS files of the host."""
    for name, value in CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


class Medium:
    """What one backend really holds: files under a folder, or objects in a bucket."""

    def __init__(self, name: str, *, folder: Path | None = None, endpoint=None, bucket=None):
        self.name, self.folder, self.endpoint, self.bucket = name, folder, endpoint, bucket
        self.client = raw_client(endpoint) if endpoint else None

    def keys(self) -> list[str]:
        if self.client is None:
            if not self.folder.exists():
                return []
            files = (p for p in self.folder.rglob("*") if p.is_file())
            return sorted(str(p.relative_to(self.folder)) for p in files)
        listed = self.client.list_objects_v2(Bucket=self.bucket).get("Contents", [])
        return sorted(item["Key"].removeprefix(PREFIX) for item in listed)

    def read(self, key: str) -> bytes:
        if self.client is None:
            return (self.folder / key).read_bytes()
        return self.client.get_object(Bucket=self.bucket, Key=PREFIX + key)["Body"].read()

    def delete(self, key: str) -> None:
        if self.client is None:
            (self.folder / key).unlink()
        else:
            self.client.delete_object(Bucket=self.bucket, Key=PREFIX + key)

    def versions(self, key: str) -> list:
        """A marker of each write of the key: (inode, mtime) of the file, or S3 versions."""
        if self.client is None:
            stat = (self.folder / key).stat()
            return [(stat.st_ino, stat.st_mtime_ns)]
        listed = self.client.list_object_versions(Bucket=self.bucket, Prefix=PREFIX + key)
        return [version["VersionId"] for version in listed.get("Versions", [])]

    def worker_env(self) -> dict[str, str]:
        """Environment making a worker process use this same store."""
        if self.client is None:
            return {"GUICHET_UPLOAD_DIR": str(self.folder)}
        return {
            "GUICHET_STORAGE_BACKEND": "s3",
            "GUICHET_S3_ENDPOINT_URL": self.endpoint,
            "GUICHET_S3_BUCKET": self.bucket,
            "GUICHET_S3_PREFIX": PREFIX,
            **CREDENTIALS,
        }


@pytest.fixture(params=["filesystem", "s3"])
def medium(request, tmp_path, monkeypatch) -> Medium:
    if request.param == "filesystem":
        return Medium("filesystem", folder=tmp_path / "stored")
    endpoint = request.getfixturevalue("moto_endpoint")
    aws_env(monkeypatch, tmp_path)
    bucket = f"guichet-{uuid.uuid4().hex[:12]}"
    client = raw_client(endpoint)
    client.create_bucket(Bucket=bucket)
    # Versioning shows every write of a key: write-once means one version.
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return Medium("s3", endpoint=endpoint, bucket=bucket)


@pytest.fixture
def app_config(app_config, medium) -> dict:
    if medium.client is None:
        return {**app_config, "UPLOAD_DIR": str(medium.folder)}
    return {
        **app_config,
        "STORAGE_BACKEND": "s3",
        "S3_ENDPOINT_URL": medium.endpoint,
        "S3_BUCKET": medium.bucket,
        "S3_PREFIX": PREFIX,
    }
