"""Uploads scanned by clamd over its Unix socket (INSTREAM), before anything is stored.

The scanner is a small server on a real Unix socket speaking clamd's protocol: it reads
`zINSTREAM\\0`, then chunks (a 4-byte big-endian length, the bytes) up to an empty one,
and answers `stream: OK\\0`, or `stream: Eicar-Test-Signature FOUND\\0` when the stream
holds the EICAR test signature (assembled at run time, so this file itself is clean).
It records every stream it received, as one byte string.
"""

import io
import socket
import struct
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from forms_app import virus_scan
from tests.support import latest_submission, publish_form, submit_answers
from tests.test_hostile_uploads import PDF, attachments, stored_objects, upload

EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
INFECTED = PDF.replace(b"\ntrailer", b"\n" + EICAR.encode() + b"\ntrailer")
FIELDS = [
    {"key": "nom", "type": "text", "label": "Nom", "required": True},
    {"key": "pieces", "type": "file", "label": "Pièces", "required": True, "max_size_mb": 1},
]


def _read_exactly(connection: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        part = connection.recv(size - len(data))
        if not part:
            raise ConnectionError("stream ended early")
        data += part
    return data


@contextmanager
def fake_clamd(folder: Path, reply: bytes | None = None):
    """A clamd stand-in listening on folder/clamd.sock; yields (socket path, streams)."""
    path = folder / "clamd.sock"
    streams: list[bytes] = []
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    server.settimeout(0.2)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(10)
                assert _read_exactly(connection, 10) == b"zINSTREAM\0"
                stream = b""
                while size := struct.unpack("!L", _read_exactly(connection, 4))[0]:
                    stream += _read_exactly(connection, size)
                streams.append(stream)
                infected = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE" in stream
                verdict = b"Eicar-Test-Signature FOUND" if infected else b"OK"
                connection.sendall(reply if reply is not None else b"stream: " + verdict + b"\0")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield str(path), streams
    finally:
        stopping.set()
        thread.join()
        server.close()


@pytest.fixture
def short_tmp(tmp_path_factory) -> Path:
    """A folder with a short path: a Unix socket's path must fit in 108 bytes."""
    return tmp_path_factory.mktemp("clamd", numbered=True)


def test_a_clean_file_is_scanned_then_stored(app, client, short_tmp):
    slug = publish_form(app, FIELDS, slug="scan")
    content = PDF + bytes(300_000)  # five chunks of 64 kB
    with fake_clamd(short_tmp) as (path, streams):
        app.config["CLAMD_SOCKET"] = path
        response = submit_answers(client, slug, {"nom": "Kaloï", "pieces": (content, "a.pdf")})
    assert response.status_code == 302
    assert streams == [content]
    assert latest_submission(app).answers["pieces"][0]["size"] == len(content)
    assert attachments(app) == 1


def test_an_infected_file_is_refused_in_french_and_not_stored(app, client, short_tmp):
    slug = publish_form(app, FIELDS, slug="scan")
    with fake_clamd(short_tmp) as (path, streams):
        app.config["CLAMD_SOCKET"] = path
        response = upload(client, slug, (INFECTED, "facture.pdf"))
    assert streams == [INFECTED]
    assert response.status_code == 400
    assert (
        "Le fichier « facture.pdf » contient un virus ou un programme malveillant "
        "(Eicar-Test-Signature) : il ne peut pas être accepté."
    ) in response.text
    assert attachments(app) == 0 and stored_objects(app) == []


def test_an_infected_reply_to_an_agent_is_refused_too(app, client, short_tmp):
    from tests.test_applicant_space import make_submission, publish_space_form, sign_in

    publish_space_form(app)
    reference = make_submission(app)
    sign_in(app, client)
    with fake_clamd(short_tmp) as (path, _streams):
        app.config["CLAMD_SOCKET"] = path
        response = client.post(
            f"/mon-espace/demandes/{reference}/messages",
            data={"body": "Mon devis", "piece": (io.BytesIO(INFECTED), "devis.pdf")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 400 and "contient un virus" in response.text
    assert attachments(app) == 0


@pytest.mark.parametrize("reply", [b"INSTREAM size limit exceeded. ERROR\0", b"", b"stream: ?\0"])
def test_no_verdict_is_a_503_and_nothing_is_stored(app, client, short_tmp, reply):
    slug = publish_form(app, FIELDS, slug="scan")
    with fake_clamd(short_tmp, reply=reply) as (path, _streams):
        app.config["CLAMD_SOCKET"] = path
        response = upload(client, slug, (PDF, "a.pdf"))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert attachments(app) == 0 and stored_objects(app) == []


def test_an_unreachable_scanner_is_a_503(app, client, short_tmp):
    slug = publish_form(app, FIELDS, slug="scan")
    app.config["CLAMD_SOCKET"] = str(short_tmp / "nobody-listens.sock")
    response = upload(client, slug, (PDF, "a.pdf"))
    assert response.status_code == 503
    assert attachments(app) == 0 and stored_objects(app) == []


def test_without_a_socket_nothing_is_scanned(app, short_tmp):
    with fake_clamd(short_tmp) as (_path, streams), app.app_context():
        assert app.config["CLAMD_SOCKET"] is None
        assert virus_scan.scan(INFECTED) is None
    assert streams == []
