"""One storage suite, run on the filesystem backend and on an S3 server (moto, over HTTP)."""

import hashlib
import os
import subprocess
import sys
import textwrap

import pytest

from forms_app import storage
from forms_app.db import get_session
from forms_app.models import Submission
from tests import storage_support
from tests.support import ROOT, process_env, publish_form, submit_directly

# The fixtures: each test runs with the filesystem backend and with an S3 server.
app_config, medium, moto_endpoint = (
    storage_support.app_config,
    storage_support.medium,
    storage_support.moto_endpoint,
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def test_a_stored_content_reads_back_under_its_hash(app, medium):
    with app.app_context():
        key = storage.store(PDF, sha(PDF))
        assert key == f"{sha(PDF)[:2]}/{sha(PDF)}"
        assert storage.read(key) == PDF
        assert storage.exists(key)
        other = f"{sha(b'x')[:2]}/{sha(b'x')}"
        assert not storage.exists(other)
        assert not storage.exists("../../etc/passwd")
        with pytest.raises(storage.ObjectNotFound):
            storage.read(other)
        assert storage.backend().name == medium.name
    assert medium.keys() == [key]
    assert medium.read(key) == PDF


def test_the_same_content_twice_is_one_object_written_once(app, medium):
    with app.app_context():
        first = storage.store(PDF, sha(PDF))
        before = medium.versions(first)
        assert storage.store(PDF, sha(PDF)) == first
        if medium.name == "s3":  # the conditional PUT alone, as when losing a race
            storage.backend().put_once(first, PDF)
    assert medium.keys() == [first]
    assert medium.versions(first) == before and len(before) == 1


STORE_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from forms_app import create_app, storage
    content = open(sys.argv[1], "rb").read()
    app = create_app()
    with app.app_context():
        storage.backend()
        print("ready", flush=True)
        while not os.path.exists(sys.argv[2]):
            time.sleep(0.005)
        print(storage.store(content, sys.argv[3]), flush=True)
""")


@pytest.mark.timeout(180)
def test_processes_storing_the_same_content_at_once_all_succeed(app, medium, tmp_path):
    content = os.urandom(2 * 1024 * 1024)
    source, go = tmp_path / "content.bin", tmp_path / "go"
    source.write_bytes(content)
    env = process_env(app, **medium.worker_env())
    command = [sys.executable, "-c", STORE_SCRIPT, str(source), str(go), sha(content)]
    processes = [
        subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    try:
        for process in processes:
            assert process.stdout.readline().strip() == "ready"
        go.touch()
        outputs = [process.communicate(timeout=120)[0].strip() for process in processes]
    finally:
        for process in processes:
            process.kill() if process.poll() is None else None
    key = f"{sha(content)[:2]}/{sha(content)}"
    assert [process.returncode for process in processes] == [0, 0, 0, 0]
    assert outputs == [key] * 4
    assert medium.keys() == [key]  # no temporary file left behind either
    assert medium.read(key) == content


def test_store_once_keeps_the_first_document_for_good(app, medium):
    publish_form(app, [{"key": "nom", "type": "text", "label": "Nom", "required": True}])
    reference = submit_directly(app, "essai", {"nom": "Lagon Bleu"})
    second = PDF.replace(b"1.4", b"1.7")
    with app.app_context():
        db = get_session()
        row = db.query(Submission).filter_by(reference=reference).one()
        keep = {"key": "receipt_key", "sha": "receipt_sha256"}
        assert storage.store_once(db, row, PDF, **keep)
        assert not storage.store_once(db, row, second, **keep)
        db.commit()
        assert (row.receipt_key, row.receipt_sha256) == (f"{sha(PDF)[:2]}/{sha(PDF)}", sha(PDF))
        assert storage.read(row.receipt_key) == PDF
    assert medium.read(f"{sha(PDF)[:2]}/{sha(PDF)}") == PDF


def test_a_large_content_round_trips_and_streams(app, medium):
    content = os.urandom(6 * 1024 * 1024 + 17)
    with app.app_context():
        key = storage.store(content, sha(content))
        assert storage.read(key) == content
    assert medium.read(key) == content
    with app.test_request_context():
        response = storage.send(key, download_name="gros.bin", mimetype="application/pdf")
        response.direct_passthrough = False
        assert response.content_length == len(content)
        assert response.get_data() == content
        response.close()


def test_a_missing_key_is_not_found_and_a_bad_hash_refused(app, medium):
    with app.app_context():
        with pytest.raises(ValueError):
            storage.store(PDF, "../" + sha(PDF)[3:])
        with pytest.raises(storage.ObjectNotFound):
            storage.read("../secret")
    assert medium.keys() == []


def test_a_deleted_object_is_gone_and_deleting_it_again_is_harmless(app, medium):
    other = b"%PDF-1.4 another\n%%EOF\n"
    with app.app_context():
        key = storage.store(PDF, sha(PDF))
        kept = storage.store(other, sha(other))
        storage.delete(key)
        assert not storage.exists(key)
        with pytest.raises(storage.ObjectNotFound):
            storage.read(key)
        storage.delete(key)  # retention passes may meet a key already removed
        with pytest.raises(storage.ObjectNotFound):
            storage.delete("../secret")
        assert storage.store(PDF, sha(PDF)) == key  # the same content can come back
        assert storage.read(key) == PDF
    assert sorted(medium.keys()) == sorted([key, kept])
