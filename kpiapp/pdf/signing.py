"""PAdES signing and verification of report PDFs with pyHanko.

Follows SECURITY.md section 3: PAdES baseline (B-B, or B-T with a TSA), strict
parsing, explicit trust roots, and the acceptance rule
``intact and valid and trusted and coverage == ENTIRE_FILE and
modification_level == NONE`` (pyHanko's ``bottom_line`` ignores coverage).

pyHanko (and, through kpiapp.pdf.render, WeasyPrint) is imported by the functions that
use it, not with this module: every process that creates the app imports this module
(kpiapp/startup.py), and the two libraries take most of a second to import (more
under load), which each RQ worker and CLI command would pay without signing anything.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from kpiapp.pdf.render import document_id_from

if TYPE_CHECKING:  # annotations only; the functions import what they use
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import signers

log = logging.getLogger(__name__)

SIGNATURE_FIELD = "kpiapp-signature"
CA_YEARS = 10
LEAF_YEARS = 3

# The stamp uses pyHanko's built-in Courier (WinAnsi), so its text is kept to
# Latin-1; the page itself carries the CJK text.
STAMP_TEXT = "Signed for: %(org)s\nSigner: %(signer)s\nTime: %(ts)s"
STAMP_WIDTH, STAMP_HEIGHT = 230, 44
STAMP_MARGIN_RIGHT, STAMP_MARGIN_BOTTOM = 36, 8
A4_MEDIABOX = (0.0, 0.0, 595.276, 841.89)


class SigningError(Exception):
    """Signing a PDF failed (bad input PDF, unreachable TSA, ...)."""


class SigningConfigError(SigningError):
    """The signing key, certificate or passphrase could not be used."""


# --- demo PKI -----------------------------------------------------------------


@dataclass(frozen=True)
class DemoPki:
    """Paths of a demo organisation CA and its report-signing certificate."""

    ca_cert: Path
    key: Path
    cert: Path
    p12: Path
    passphrase_file: Path

    def paths(self) -> tuple[Path, ...]:
        return (self.ca_cert, self.key, self.cert, self.p12, self.passphrase_file)

    def passphrase(self) -> bytes:
        """Passphrase protecting both the PKCS#12 bundle and the PEM key."""
        return self.passphrase_file.read_bytes().strip()


def ensure_demo_certificate(directory: Path, org_name: str) -> DemoPki:
    """Create (once) a demo CA plus signing certificate in ``directory``.

    The CA is EC P-256 valid 10 years; the leaf is valid 3 years with
    KeyUsage digitalSignature + contentCommitment. The CA private key is not
    kept, so the CA can never issue anything else. Files are 0600; the
    passphrase for the PKCS#12 bundle and the encrypted PEM key is stored in
    ``signer.p12.pass``. If all files exist they are reused as they are (even
    if ``org_name`` changed); if only some exist, SigningConfigError is
    raised rather than overwriting a CA that may already be trusted.
    """
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    pki = DemoPki(
        ca_cert=directory / "org-ca.pem",
        key=directory / "signer-key.pem",
        cert=directory / "signer-cert.pem",
        p12=directory / "signer.p12",
        passphrase_file=directory / "signer.p12.pass",
    )
    with _directory_lock(directory):
        present = [path.exists() for path in pki.paths()]
        if all(present):
            return pki
        if any(present):
            raise SigningConfigError(
                f"incomplete demo PKI in {directory}; remove its files to regenerate"
            )
        _write_demo_pki(pki, org_name)
    return pki


@contextlib.contextmanager
def _directory_lock(directory: Path):
    # Several app workers may start at once; only one may generate keys.
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _write_demo_pki(pki: DemoPki, org_name: str) -> None:
    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _x509_name(org_name, f"{org_name[:40]} Document CA")
    ca_cert = _build_ca(ca_key, ca_name, now)
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf_name = _x509_name(org_name, f"{org_name[:40]} Report Signing")
    leaf_cert = _build_leaf(leaf_key, leaf_name, ca_key, ca_cert, now)

    passphrase = secrets.token_urlsafe(32).encode()
    encryption = serialization.BestAvailableEncryption(passphrase)
    pem = serialization.Encoding.PEM
    _write_private(pki.passphrase_file, passphrase + b"\n")
    _write_private(pki.ca_cert, ca_cert.public_bytes(pem))
    _write_private(pki.cert, leaf_cert.public_bytes(pem))
    _write_private(
        pki.key,
        leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, encryption),
    )
    _write_private(
        pki.p12,
        pkcs12.serialize_key_and_certificates(
            b"kpiapp-signer", leaf_key, leaf_cert, [ca_cert], encryption
        ),
    )


def _x509_name(org_name: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org_name[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )


def _key_usage(*, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=not signing,
        crl_sign=not signing,
        encipher_only=False,
        decipher_only=False,
    )


def _build_ca(key, name: x509.Name, now: datetime) -> x509.Certificate:
    public_key = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * CA_YEARS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signing=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(key, hashes.SHA256())
    )


def _build_leaf(key, name, ca_key, ca_cert, now: datetime) -> x509.Certificate:
    public_key = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=365 * LEAF_YEARS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signing=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)  # O_CREAT modes are filtered by the umask


# --- loading keys and trust roots -----------------------------------------------


def load_signer(
    *,
    p12_path=None,
    passphrase: bytes | str | None = None,
    key_path=None,
    cert_path=None,
    ca_chain=(),
) -> signers.SimpleSigner:
    """Load a signer from a PKCS#12 bundle or from PEM/DER key + certificate.

    ``ca_chain`` lists extra certificate files to embed. Raises
    SigningConfigError (never returns None) when the files are missing or
    unreadable, the passphrase is wrong, the key does not match the
    certificate, or the certificate is outside its validity period.
    """
    from pyhanko.sign import signers

    if isinstance(passphrase, str):
        passphrase = passphrase.encode()
    chain = [str(path) for path in ca_chain] or None
    if p12_path is not None:
        source = p12_path
        signer = signers.SimpleSigner.load_pkcs12(
            str(p12_path), ca_chain_files=chain, passphrase=passphrase
        )
    elif key_path is not None and cert_path is not None:
        source = key_path
        signer = signers.SimpleSigner.load(
            str(key_path), str(cert_path), ca_chain_files=chain, key_passphrase=passphrase
        )
    else:
        raise SigningConfigError("give either p12_path, or key_path and cert_path")
    if signer is None:
        raise SigningConfigError(
            f"could not load the signing key from {source}: wrong passphrase, "
            "missing file or unsupported format"
        )
    _check_signer(signer)
    return signer


def _check_signer(signer: signers.SimpleSigner) -> None:
    key = serialization.load_der_private_key(signer.signing_key.dump(), password=None)
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    cert = signer.signing_cert
    if spki != cert.public_key.dump():
        raise SigningConfigError("the signing key does not match the certificate")
    now = datetime.now(timezone.utc)
    if not cert.not_valid_before <= now <= cert.not_valid_after:
        raise SigningConfigError(
            f"the signing certificate is not valid now (valid {cert.not_valid_before}"
            f" to {cert.not_valid_after})"
        )


def trust_roots_from(paths) -> list:
    """Load CA certificates (PEM or DER, several per file allowed) as trust roots."""
    from pyhanko.keys import load_certs_from_pemder

    try:
        return list(load_certs_from_pemder([str(path) for path in paths]))
    except (OSError, ValueError) as exc:
        raise SigningConfigError(f"could not load trust roots: {exc}") from exc


# --- signing --------------------------------------------------------------------


def sign_pdf(
    pdf: bytes,
    signer: signers.Signer,
    *,
    reason: str,
    location: str,
    org_name: str,
    timestamp_url: str | None = None,
) -> bytes:
    """Sign ``pdf`` (PAdES, SHA-256) with a visible stamp on the last page.

    The stamp sits in the bottom-right corner, inside WeasyPrint's default
    bottom page margin, and names the organisation, the signer and the time.
    With ``timestamp_url`` an RFC 3161 timestamp is embedded (PAdES B-T).
    Raises SigningError if the PDF cannot be parsed or the TSA fails.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers, timestamps
    from pyhanko.sign.fields import SigSeedSubFilter

    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=True)
        field_spec = fields.SigFieldSpec(
            SIGNATURE_FIELD, on_page=-1, box=_stamp_box(writer)
        )
        metadata = signers.PdfSignatureMetadata(
            field_name=SIGNATURE_FIELD,
            md_algorithm="sha256",
            subfilter=SigSeedSubFilter.PADES,
            reason=reason,
            location=location,
        )
        timestamper = timestamps.HTTPTimeStamper(timestamp_url) if timestamp_url else None
        pdf_signer = signers.PdfSigner(
            metadata,
            signer,
            timestamper=timestamper,
            stamp_style=stamp_style(),
            new_field_spec=field_spec,
        )
        text = {
            "org": _stamp_text(org_name),
            "signer": _stamp_text(_cert_name(signer.signing_cert)),
        }
        return pdf_signer.sign_pdf(writer, appearance_text_params=text).getvalue()
    except SigningError:
        raise
    except Exception as exc:
        raise SigningError(f"could not sign PDF: {exc}") from exc


def stamp_style():
    """The visible stamp: pyHanko's built-in Courier, 7 pt, a thin border, no background."""
    from pyhanko.pdf_utils.text import TextBoxStyle
    from pyhanko.stamp import TextStampStyle

    return TextStampStyle(
        stamp_text=STAMP_TEXT,
        text_box_style=TextBoxStyle(font_size=7),
        timestamp_format="%Y-%m-%d %H:%M:%S %Z",
        border_width=1,
        background=None,
    )


def _stamp_box(writer: IncrementalPdfFileWriter) -> tuple[int, int, int, int]:
    page_ref, _ = writer.find_page_for_modification(-1)
    page = page_ref.get_object()
    _left, bottom, right, _top = (float(v) for v in page.get("/MediaBox", A4_MEDIABOX))
    x2 = int(right - STAMP_MARGIN_RIGHT)
    y1 = int(bottom + STAMP_MARGIN_BOTTOM)
    return (x2 - STAMP_WIDTH, y1, x2, y1 + STAMP_HEIGHT)


def _stamp_text(value: str, limit: int = 48) -> str:
    # Courier/WinAnsi cannot show CJK; one line per value keeps the layout.
    flat = " ".join(str(value).split())[:limit]
    return flat.encode("latin-1", "replace").decode("latin-1")


def _cert_name(cert) -> str:
    subject = cert.subject.native
    return subject.get("common_name") or subject.get("organization_name") or "unknown"


# --- verification ---------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    """Outcome of :func:`verify_pdf`; only ``ok`` decides acceptance."""

    ok: bool
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    coverage: str = ""
    modification_level: str = ""
    signer_name: str | None = None
    signed_at: datetime | None = None
    reason: str | None = None
    document_id: str | None = None
    error: str | None = None


def verify_pdf(data: bytes, trust_roots: list) -> Verification:
    """Validate the single PAdES signature of a report against ``trust_roots``.

    ``ok`` applies SECURITY.md section 3: intact, valid, trusted, coverage
    ENTIRE_FILE, modification level NONE, exactly one signature, and a valid
    timestamp if one is embedded. ``error`` names the first failed check
    ('not_a_pdf', 'no_signature', 'malformed_signature',
    'multiple_signatures', 'not_intact',
    'invalid_signature', 'untrusted', 'incomplete_coverage',
    'modified_after_signing', 'bad_timestamp', 'validation_failed').
    Never raises, whatever bytes are given. Revocation is not checked.
    """
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(io.BytesIO(bytes(data)), strict=True)
    except Exception:
        return Verification(ok=False, error="not_a_pdf")
    try:
        signatures = reader.embedded_signatures
    except Exception:
        return Verification(ok=False, error="malformed_signature")
    if not signatures:
        return Verification(ok=False, error="no_signature", document_id=_latest_id(reader))
    try:
        return _verify_signature(reader, signatures, trust_roots or [])
    except Exception:
        log.warning("PDF signature validation failed", exc_info=True)
        return Verification(ok=False, error="validation_failed")


def _verify_signature(reader, signatures, trust_roots) -> Verification:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    signature = signatures[0]
    context = ValidationContext(trust_roots=list(trust_roots), allow_fetching=False)
    status = validate_pdf_signature(signature, context)
    coverage = status.coverage.name if status.coverage else "UNKNOWN"
    level = status.modification_level.name if status.modification_level else "UNKNOWN"
    timestamp = status.timestamp_validity
    checks = [
        ("multiple_signatures", len(signatures) == 1),
        ("not_intact", status.intact),
        ("invalid_signature", status.valid),
        ("untrusted", status.trusted),
        ("incomplete_coverage", coverage == "ENTIRE_FILE"),
        ("modified_after_signing", level == "NONE"),
        ("bad_timestamp", timestamp is None or timestamp.trusted),
    ]
    error = next((code for code, passed in checks if not passed), None)
    revision = reader.get_historical_resolver(signature.signed_revision)
    reason = signature.sig_object.get("/Reason")
    return Verification(
        ok=error is None,
        intact=bool(status.intact),
        valid=bool(status.valid),
        trusted=bool(status.trusted),
        coverage=coverage,
        modification_level=level,
        signer_name=_cert_name(status.signing_cert),
        signed_at=timestamp.timestamp if timestamp else status.signer_reported_dt,
        reason=str(reason) if reason is not None else None,
        document_id=document_id_from(revision),
        error=error,
    )


def _latest_id(reader: PdfFileReader) -> str | None:
    try:
        return document_id_from(reader)
    except Exception:
        return None
