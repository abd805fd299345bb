"""The insurer's digital signature on receipt PDFs: PAdES (ETSI.CAdES.detached) with pyHanko.

Production mounts the insurer's certificate and key (BHYT_RECEIPT_CERT_FILE/KEY_FILE, with
BHYT_RECEIPT_SELF_SIGNED=false so that a missing file is an error, not a silent dev certificate).
A local run creates a self-signed pair under var/ on first start: signatures then verify
(intact) but are trusted by nobody but who trusts that certificate explicitly.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from config import Settings, receipt_signing_files

SIGNATURE_FIELD = "BHXH_Signature"


class SigningIdentityMissing(RuntimeError):
    """The configured certificate or key file does not exist (and self-signing is off)."""


def ensure_self_signed(
    cert_file: Path, key_file: Path, common_name: str = "BHXH Việt Nam (local, self-signed)"
) -> bool:
    """Create a self-signed certificate and its key if either file is missing; whether it did."""
    if cert_file.exists() and key_file.exists():
        return False
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Bảo hiểm xã hội Việt Nam (local)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=5 * 365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    for path in (cert_file, key_file):
        path.parent.mkdir(parents=True, exist_ok=True)
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key_bytes)
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return True


class ReceiptSigner:
    """Loads the certificate and key once; `sign` is synchronous CPU work (run it in a thread)."""

    def __init__(self, cert_file: Path, key_file: Path, key_password: str | None = None) -> None:
        missing = [str(p) for p in (cert_file, key_file) if not p.exists()]
        if missing:
            raise SigningIdentityMissing(f"receipt signing file not found: {', '.join(missing)}")
        signer = signers.SimpleSigner.load(
            str(key_file),
            str(cert_file),
            key_passphrase=key_password.encode() if key_password else None,
        )
        if signer is None:
            raise SigningIdentityMissing(
                f"could not load the receipt signing key {key_file} / certificate {cert_file}"
            )
        self._signer = signer
        self.cert_file = cert_file
        self.certificate = signer.signing_cert

    @classmethod
    def from_settings(cls, settings: Settings) -> ReceiptSigner:
        cert_file, key_file = receipt_signing_files(settings)
        if settings.bhyt_receipt_self_signed:
            ensure_self_signed(cert_file, key_file)
        return cls(cert_file, key_file, settings.bhyt_receipt_key_password)

    def sign(self, pdf: bytes, *, reason: str, location: str = "Việt Nam") -> bytes:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
        meta = signers.PdfSignatureMetadata(
            field_name=SIGNATURE_FIELD,
            md_algorithm="sha256",
            subfilter=fields.SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
        )
        out = signers.PdfSigner(meta, signer=self._signer).sign_pdf(writer)
        return out.getvalue()
