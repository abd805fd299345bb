"""The rehearsal's own certificate authority: the proxy's TLS certificate and the receipt signing
certificate, both issued by a CA created for one run (never the local self-signed pair).

A real deployment gets the TLS certificate from its public CA and the receipt certificate from
the insurer's; here one throw-away CA stands in for both, so that clients can verify the proxy
and a validator can check a receipt's signature up to a trust root, as a citizen's PDF reader
with the insurer's CA would.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Pki:
    ca_cert: Path
    tls_cert: Path
    tls_key: Path
    receipt_cert: Path
    receipt_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "BHYT rehearsal"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_key(path: Path, key: PrivateKey) -> None:
    data = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _usage(*, signing: bool, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=signing,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def create_pki(folder: Path, host: str = "127.0.0.1") -> Pki:
    """A CA, a TLS server certificate for `host` and a receipt signing certificate, as PEM files."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("BHYT rehearsal CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(signing=False, ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def issue(
        common_name: str, key: PrivateKey, extensions: list[tuple[x509.ExtensionType, bool]]
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(ca_key, hashes.SHA256())

    tls_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    try:
        names.append(x509.IPAddress(ipaddress.ip_address(host)))
    except ValueError:
        names.append(x509.DNSName(host))
    tls = issue(
        host,
        tls_key,
        [
            (x509.SubjectAlternativeName(names), False),
            (_usage(signing=False), True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
        ],
    )
    receipt_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    receipt = issue("BHXH Việt Nam (rehearsal receipt signing)", receipt_key, [(_usage(signing=True), True)])

    pki = Pki(
        ca_cert=folder / "ca.pem",
        tls_cert=folder / "tls-cert.pem",
        tls_key=folder / "tls-key.pem",
        receipt_cert=folder / "receipt-cert.pem",
        receipt_key=folder / "receipt-key.pem",
    )
    pki.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    pki.tls_cert.write_bytes(tls.public_bytes(serialization.Encoding.PEM))
    _write_key(pki.tls_key, tls_key)
    pki.receipt_cert.write_bytes(receipt.public_bytes(serialization.Encoding.PEM))
    _write_key(pki.receipt_key, receipt_key)
    return pki
