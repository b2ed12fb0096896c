"""The demo PKI: `flask pki demo` writes a CA and a private signer key, once, or again on --force."""

import stat
from datetime import timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from forms_app import pki


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def common_name(certificate: x509.Certificate) -> str:
    return certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


def test_pki_demo_writes_a_ca_and_a_private_signer_key(app, runner):
    directory = pki.default_directory(app.instance_path)
    result = runner.invoke(args=["pki", "demo"])
    assert result.exit_code == 0, result.output
    assert "Created demo PKI" in result.output
    assert f"GUICHET_SIGNING_PKCS12={directory / 'signer.p12'}" in result.output
    assert f"GUICHET_SIGNING_TRUST_ROOTS={directory / 'ca.pem'}" in result.output
    assert mode(directory) == 0o700
    assert mode(directory / "signer.p12") == 0o600
    assert not list(directory.glob(".*.tmp"))

    ca = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
    bundle = pkcs12.load_pkcs12((directory / "signer.p12").read_bytes(), pki.DEMO_PASSWORD.encode())
    signer = bundle.cert.certificate
    assert [c.certificate for c in bundle.additional_certs] == [ca]
    assert bundle.key is not None
    signer.verify_directly_issued_by(ca)

    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    ca_usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ca_usage.key_cert_sign and ca_usage.crl_sign and not ca_usage.digital_signature
    assert ca.not_valid_after_utc - ca.not_valid_before_utc >= timedelta(days=3650)

    assert common_name(signer) == "Françoise Finances – Province Sud (démonstration)"
    organisation = signer.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    assert organisation == "Province Sud (démonstration)"
    assert signer.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "NC"
    usage = signer.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    purposes = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(purposes) == {pki.DOCUMENT_SIGNING, ExtendedKeyUsageOID.EMAIL_PROTECTION}
    assert signer.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    lifetime = signer.not_valid_after_utc - signer.not_valid_before_utc
    assert timedelta(days=3 * 365) <= lifetime < timedelta(days=3 * 365 + 1)


def test_pki_demo_keeps_existing_files_and_force_replaces_them(app, runner):
    directory = pki.default_directory(app.instance_path)
    assert runner.invoke(args=["pki", "demo"]).exit_code == 0
    ca, key = (directory / "ca.pem").read_bytes(), (directory / "signer.p12").read_bytes()

    again = runner.invoke(args=["pki", "demo"])
    assert again.exit_code == 0
    assert "Kept the existing demo PKI" in again.output
    assert (directory / "ca.pem").read_bytes() == ca
    assert (directory / "signer.p12").read_bytes() == key

    forced = runner.invoke(args=["pki", "demo", "--force"])
    assert forced.exit_code == 0
    assert "Created demo PKI" in forced.output
    assert (directory / "ca.pem").read_bytes() != ca
    assert (directory / "signer.p12").read_bytes() != key
    assert mode(directory / "signer.p12") == 0o600


def test_pki_demo_uses_the_configured_password_without_printing_it(app, runner):
    app.config["SIGNING_PKCS12_PASSWORD"] = "mot-de-passe-local"
    result = runner.invoke(args=["pki", "demo"])
    assert result.exit_code == 0
    assert "mot-de-passe-local" not in result.output
    content = (pki.default_directory(app.instance_path) / "signer.p12").read_bytes()
    assert pkcs12.load_pkcs12(content, b"mot-de-passe-local").cert is not None
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(content, pki.DEMO_PASSWORD.encode())


def test_pki_demo_is_refused_in_production(app, runner):
    app.config["ENV"] = "production"
    result = runner.invoke(args=["pki", "demo"])
    assert result.exit_code != 0
    assert "never used in production" in result.output
    assert not pki.default_directory(app.instance_path).exists()


def test_a_half_written_pki_is_made_again(tmp_path):
    made = pki.create_demo_pki(tmp_path / "pki", "secret")
    made.signer_pkcs12.unlink()
    again = pki.create_demo_pki(tmp_path / "pki", "secret")
    assert again.created and again.signer_pkcs12.exists()


def test_the_key_needs_a_password(tmp_path):
    with pytest.raises(ValueError):
        pki.create_demo_pki(tmp_path / "pki", "")
