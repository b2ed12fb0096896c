"""A demonstration PKI: a certificate authority and the finance signer's certificate.

The CA key signs the signer certificate and is then thrown away: nobody can issue another
certificate under this CA. A new demo PKI (`force`) is a new CA, so documents signed before
are no longer trusted unless the old `ca.pem` is kept among the trust roots.
"""

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

DEMO_PASSWORD = "guichet-demo-pki"  # noqa: S105  (demo key only; production needs its own)
CA_FILE = "ca.pem"
SIGNER_FILE = "signer.p12"
ORGANISATION = "Province Sud (démonstration)"
CA_NAME = "Autorité de certification Guichet (démonstration)"
SIGNER_NAME = "Françoise Finances – Province Sud (démonstration)"
CA_YEARS = 10
SIGNER_YEARS = 3
# id-kp-documentSigning (RFC 9336), next to e-mail protection that older readers expect.
DOCUMENT_SIGNING = ObjectIdentifier("1.3.6.1.5.5.7.3.36")


@dataclass(frozen=True)
class DemoPki:
    """Where the demo PKI lives, and whether this call created it."""

    directory: Path
    ca_certificate: Path
    signer_pkcs12: Path
    created: bool


def default_directory(instance_path: str | Path) -> Path:
    """Where the demo PKI lives: <instance>/pki/."""
    return Path(instance_path) / "pki"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NC"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _key_usage(*, signer: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signer,
        content_commitment=signer,  # nonRepudiation
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signer,
        crl_sign=not signer,
        encipher_only=False,
        decipher_only=False,
    )


def _builder(subject: x509.Name, issuer: x509.Name, public_key, years: int, now: datetime):
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * years))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def issue(
    now: datetime | None = None,
) -> tuple[x509.Certificate, x509.Certificate, ec.EllipticCurvePrivateKey]:
    """Make a fresh CA and a signer certificate under it: (ca, signer, signer key)."""
    now = now or datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name(CA_NAME)
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), CA_YEARS, now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signer=False), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    signer = (
        _builder(_name(SIGNER_NAME), ca_name, key.public_key(), SIGNER_YEARS, now)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signer=True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    return ca, signer, key


def _write(path: Path, content: bytes, mode: int) -> None:
    """Write a file with its final mode from the start, then move it into place."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def create_demo_pki(directory: Path, password: str, *, force: bool = False) -> DemoPki:
    """Write ca.pem and signer.p12 (0600, encrypted with `password`) unless they exist."""
    directory = Path(directory)
    ca_path, p12_path = directory / CA_FILE, directory / SIGNER_FILE
    if not force and ca_path.exists() and p12_path.exists():
        return DemoPki(directory, ca_path, p12_path, created=False)
    if not password:
        raise ValueError("The PKCS#12 file needs a password.")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca, signer, key = issue()
    bundle = pkcs12.serialize_key_and_certificates(
        name=SIGNER_NAME.encode(),
        key=key,
        cert=signer,
        cas=[ca],
        encryption_algorithm=serialization.BestAvailableEncryption(password.encode()),
    )
    _write(p12_path, bundle, 0o600)
    _write(ca_path, ca.public_bytes(serialization.Encoding.PEM), 0o644)
    return DemoPki(directory, ca_path, p12_path, created=True)
