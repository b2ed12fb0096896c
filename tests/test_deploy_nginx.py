"""docs/deploy/nginx.conf: read, checked by `nginx -t`, then run in front of a test upstream.

`make test` installs nginx-light (`make browser`); a missing nginx fails the test.
"""

import getpass
import http.server
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading

import pytest

from forms_app.config import Config
from forms_app.embedded_redis import free_port, is_listening
from tests.deploy_support import DEPLOY, directives
from tests.support import self_signed, wait_until

CONF = (DEPLOY / "nginx.conf").read_text()
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), None
)
HOST = "guichet.example.nc"


def test_the_proxy_sends_what_the_app_reads_and_accepts_what_it_accepts():
    words = directives(CONF)
    assert ["client_max_body_size", f"{Config.MAX_CONTENT_LENGTH // 2**20}m"] in words
    for header, value in {
        "Host": "$host",
        "X-Forwarded-For": "$remote_addr",
        "X-Forwarded-Proto": "$scheme",
        "X-Forwarded-Host": "$host",
    }.items():
        assert ["proxy_set_header", header, value] in words
    servers = [w[1] for w in words if w[0] == "server" and len(w) > 1]
    assert len(servers) == 2 and all(s.endswith(":8000") for s in servers)
    assert ["location", "=", "/metrics"] in words and ["return", "404"] in words
    assert ["error_page", "502", "504", "=503", "/maintenance.html"] in words
    assert any(w[:2] == ["add_header", "Strict-Transport-Security"] for w in words)
    assert ["listen", "443", "ssl", "http2"] in words


class _Upstream(http.server.ThreadingHTTPServer):
    """A web host stand-in that answers 200 and remembers the headers it was sent."""

    daemon_threads = True

    def __init__(self, port: int):
        self.seen: list[tuple[str, dict[str, str]]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                server.seen.append((self.path, dict(self.headers)))
                body = b"app"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Strict-Transport-Security", "max-age=31536000")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", port), Handler)


def _local_config(tmp_path, http_port: int, https_port: int, upstreams: list[int]) -> str:
    """The example with this machine's ports, files and user; nothing else changed."""
    cert, key = self_signed(tmp_path, HOST)
    (tmp_path / "www").mkdir()
    shutil.copy(DEPLOY / "maintenance.html", tmp_path / "www" / "maintenance.html")
    temp = "\n".join(
        f"    {kind}_temp_path {tmp_path}/{kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    text = CONF.replace("user www-data;", f"user {getpass.getuser()};")
    text = text.replace("/run/nginx.pid", f"{tmp_path}/nginx.pid")
    text = text.replace("/var/log/nginx/", f"{tmp_path}/")
    text = text.replace("/etc/ssl/guichet/fullchain.pem", cert)
    text = text.replace("/etc/ssl/guichet/privkey.pem", key)
    text = text.replace("/var/www/guichet", f"{tmp_path}/www")
    text = text.replace("http {\n", f"http {{\n{temp}\n", 1)
    text = re.sub(r"listen \[::\]:\d+[^;]*;\n", "", text)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http_port};")
    text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;")
    for old, port in zip(("10.0.1.11:8000", "10.0.1.12:8000"), upstreams, strict=True):
        text = text.replace(old, f"127.0.0.1:{port}")
    path = tmp_path / "nginx.conf"
    path.write_text(text)
    return str(path)


def _nginx(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NGINX, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def _request(port: int, head: str) -> tuple[int, str, str]:
    """Send `head` over TLS; the status, the headers and the body of the answer."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=15) as raw,
        context.wrap_socket(raw, server_hostname=HOST) as tls,
    ):
        tls.sendall(head.encode())
        answer = b""
        while chunk := tls.recv(65536):
            answer += chunk
    headers, _, body = answer.decode("utf-8", "replace").partition("\r\n\r\n")
    return int(headers.split()[1]), headers, body


def _get(port: int, path: str) -> tuple[int, str, str]:
    return _request(port, f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n")


@pytest.mark.timeout(120)
def test_nginx_accepts_the_file_and_serves_as_described(tmp_path):
    assert NGINX, "nginx is missing: run `make browser` (apt-get install nginx-light)"
    http_port, https_port, up, down = free_port(), free_port(), free_port(), free_port()
    config = _local_config(tmp_path, http_port, https_port, [up, down])
    checked = _nginx("-t", "-c", config, "-p", str(tmp_path), "-e", str(tmp_path / "t.log"))
    assert checked.returncode == 0, checked.stderr

    upstream = _Upstream(up)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    log = str(tmp_path / "e.log")
    server = subprocess.Popen(
        [NGINX, "-c", config, "-p", str(tmp_path), "-e", log, "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: is_listening(https_port), timeout=20)
        status, headers, body = _get(https_port, "/demarches/?page=2")
        assert (status, body) == (200, "app")
        assert headers.count("Strict-Transport-Security") == 1
        assert "max-age=63072000; includeSubDomains" in headers
        [(path, sent)] = upstream.seen
        assert path == "/demarches/?page=2"
        assert sent["X-Forwarded-For"] == "127.0.0.1" and sent["X-Forwarded-Proto"] == "https"
        assert sent["X-Forwarded-Host"] == HOST and sent["Host"] == HOST
        assert re.fullmatch(r"[0-9a-f]{32}", sent["X-Request-ID"])

        assert _get(https_port, "/metrics")[0] == 404 and len(upstream.seen) == 1
        too_big = Config.MAX_CONTENT_LENGTH + 1
        status, _, _ = _request(
            https_port,
            f"POST /demarches/ HTTP/1.1\r\nHost: {HOST}\r\nContent-Length: {too_big}\r\n"
            "Connection: close\r\n\r\n",
        )
        assert status == 413 and len(upstream.seen) == 1
        with socket.create_connection(("127.0.0.1", http_port), timeout=15) as plain:
            plain.sendall(f"GET /x HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
            answer = plain.recv(4096).decode()
        assert " 301 " in answer.splitlines()[0] and f"Location: https://{HOST}/x" in answer

        upstream.shutdown()
        upstream.server_close()  # every web host down now
        status, headers, body = _get(https_port, "/")
        assert status == 503 and "Retry-After: 60" in headers
        assert "Service momentanément indisponible" in body
        assert "Strict-Transport-Security" in headers
    finally:
        server.terminate()
        server.wait(timeout=20)
