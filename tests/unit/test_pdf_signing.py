"""Tests for kpiapp.pdf.signing: demo PKI, signing, and the SECURITY.md §3 tamper matrix."""

import io
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.timestamps import DummyTimeStamper

# The project is not installed in the venv and there is no pytest config yet;
# make the checkout importable when run with --noconftest.
ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kpiapp.pdf.render import read_document_id, render_pdf  # noqa: E402
from kpiapp.pdf.signing import (  # noqa: E402
    SIGNATURE_FIELD,
    SigningConfigError,
    SigningError,
    ensure_demo_certificate,
    load_signer,
    sign_pdf,
    trust_roots_from,
    verify_pdf,
)

ORG = "Acme Cross-Border Ltd"
REPORT_HTML = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"></head>
<body><h1>绩效考核报告</h1><p>Employee: Li Wei</p>
<p>广告销售成本比 (ACoS): 18.4%</p><p>Final score 87</p></body></html>"""


# --- fixtures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return ensure_demo_certificate(tmp_path_factory.mktemp("pki") / "org", ORG)


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory):
    return ensure_demo_certificate(tmp_path_factory.mktemp("pki") / "other", "Unrelated Org")


@pytest.fixture(scope="module")
def signer(pki):
    return load_signer(p12_path=pki.p12, passphrase=pki.passphrase())


@pytest.fixture(scope="module")
def roots(pki):
    return trust_roots_from([pki.ca_cert])


@pytest.fixture(scope="module")
def signed(signer):
    pdf = render_pdf(REPORT_HTML, document_id="appraisal-7")
    return sign_pdf(pdf, signer, reason="Cycle closed", location="HR", org_name=ORG)


def _byte_range(data: bytes) -> list[int]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", data)
    return [int(group) for group in match.groups()]


def _flip(data: bytes, offset: int) -> bytes:
    changed = bytearray(data)
    changed[offset] ^= 0x01
    return bytes(changed)


def _signed_offsets(data: bytes) -> dict[str, int]:
    _, len1, start2, len2 = _byte_range(data)
    middle = len(data) // 2
    assert not len1 <= middle < start2, "middle of file fell into /Contents"
    return {"middle": middle, "near start": 16, "near end": start2 + len2 - 12}


# --- demo PKI ---------------------------------------------------------------------


def test_demo_pki_files_are_private(pki):
    assert oct(pki.ca_cert.parent.stat().st_mode & 0o777) == "0o700"
    for path in pki.paths():
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_demo_pki_is_idempotent(pki):
    before = {path: path.read_bytes() for path in pki.paths()}
    again = ensure_demo_certificate(pki.ca_cert.parent, ORG)
    assert again == pki
    assert {path: path.read_bytes() for path in again.paths()} == before


def test_demo_pki_refuses_partial_directory(tmp_path):
    partial = ensure_demo_certificate(tmp_path / "pki", ORG)
    partial.cert.unlink()
    with pytest.raises(SigningConfigError, match="incomplete"):
        ensure_demo_certificate(tmp_path / "pki", ORG)


def test_demo_certificates_have_expected_profile(pki):
    ca = x509.load_pem_x509_certificate(pki.ca_cert.read_bytes())
    leaf = x509.load_pem_x509_certificate(pki.cert.read_bytes())
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert leaf.public_key().curve.name == "secp256r1"
    assert leaf.issuer == ca.subject
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca_days = (ca.not_valid_after_utc - ca.not_valid_before_utc).days
    leaf_days = (leaf.not_valid_after_utc - leaf.not_valid_before_utc).days
    assert 3640 <= ca_days <= 3660 and 1090 <= leaf_days <= 1100


# --- loading signers --------------------------------------------------------------


def test_load_signer_from_pem(pki):
    signer = load_signer(
        key_path=pki.key, cert_path=pki.cert, passphrase=pki.passphrase(),
        ca_chain=[pki.ca_cert],
    )
    assert signer.signing_cert.subject.native["organization_name"] == ORG


def test_wrong_pkcs12_passphrase_is_config_error(pki):
    with pytest.raises(SigningConfigError, match="passphrase"):
        load_signer(p12_path=pki.p12, passphrase=b"not-the-passphrase")


def test_wrong_pem_passphrase_is_config_error(pki):
    with pytest.raises(SigningConfigError):
        load_signer(key_path=pki.key, cert_path=pki.cert, passphrase="wrong")


def test_missing_p12_is_config_error(tmp_path):
    with pytest.raises(SigningConfigError):
        load_signer(p12_path=tmp_path / "absent.p12", passphrase=b"x")


def test_key_certificate_mismatch_is_config_error(pki, other_pki):
    with pytest.raises(SigningConfigError, match="does not match"):
        load_signer(key_path=pki.key, cert_path=other_pki.cert, passphrase=pki.passphrase())


def test_load_signer_needs_some_key_material():
    with pytest.raises(SigningConfigError):
        load_signer(passphrase=b"x")


# --- tamper matrix (SECURITY.md §3) -----------------------------------------------


def test_clean_signature_is_accepted(signed, roots):
    result = verify_pdf(signed, roots)
    assert result.ok and result.error is None
    assert result.intact and result.valid and result.trusted
    assert result.coverage == "ENTIRE_FILE"
    assert result.modification_level == "NONE"
    assert result.signer_name == f"{ORG} Report Signing"
    assert result.reason == "Cycle closed"
    assert result.document_id == "appraisal-7"
    assert abs(result.signed_at - datetime.now(timezone.utc)) < timedelta(minutes=10)


def test_unrelated_root_is_untrusted(signed, other_pki):
    result = verify_pdf(signed, trust_roots_from([other_pki.ca_cert]))
    assert (result.ok, result.trusted, result.intact) == (False, False, True)
    assert result.coverage == "ENTIRE_FILE" and result.modification_level == "NONE"
    assert result.error == "untrusted"


def test_no_trust_roots_never_falls_back_to_system(signed):
    assert verify_pdf(signed, []).error == "untrusted"


@pytest.mark.parametrize("where", ["middle", "near start", "near end"])
def test_flipped_byte_in_signed_range_is_rejected(signed, roots, where):
    result = verify_pdf(_flip(signed, _signed_offsets(signed)[where]), roots)
    assert not result.ok
    assert not result.intact or result.error in {"not_a_pdf", "malformed_signature"}
    print(f"flip {where}: intact={result.intact} error={result.error}")


def test_middle_flip_breaks_integrity(signed, roots):
    # The middle lands in a content/font stream: the file still parses.
    result = verify_pdf(_flip(signed, _signed_offsets(signed)["middle"]), roots)
    assert (result.intact, result.trusted, result.error) == (False, False, "not_intact")


def test_flipped_byte_in_signature_value_is_rejected(signed, roots):
    _, len1, _, _ = _byte_range(signed)
    assert not verify_pdf(_flip(signed, len1 + 200), roots).ok


def test_incremental_page_change_is_rejected(signed, roots):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    overlay = generic.StreamObject(stream_data=b"0 0 1 rg 100 400 200 50 re f")
    writer.add_stream_to_page(0, writer.add_object(overlay))
    out = io.BytesIO()
    writer.write(out)
    result = verify_pdf(out.getvalue(), roots)
    assert (result.intact, result.trusted) == (True, True)
    assert result.coverage == "ENTIRE_REVISION"
    assert result.modification_level == "OTHER"
    assert not result.ok


def test_incremental_metadata_change_is_rejected(signed, roots):
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    info = writer.trailer["/Info"]
    info["/Keywords"] = generic.TextStringObject("kpiapp-document:forged")
    writer.update_container(info)
    out = io.BytesIO()
    writer.write(out)
    tampered = out.getvalue()
    result = verify_pdf(tampered, roots)
    assert result.coverage == "ENTIRE_REVISION" and not result.ok
    # Newest revision claims another id; the verifier reports the signed one.
    assert read_document_id(tampered) == "forged"
    assert result.document_id == "appraisal-7"


@pytest.mark.parametrize(
    "data, error",
    [
        (b"", "not_a_pdf"),
        (b"\x00\xff" * 500, "not_a_pdf"),
        (b"%PDF-1.7\ngarbage", "not_a_pdf"),
        (None, "not_a_pdf"),
        ("not bytes", "not_a_pdf"),
    ],
)
def test_bad_input_never_raises(data, error, roots):
    result = verify_pdf(data, roots)
    assert (result.ok, result.error) == (False, error)


def test_unsigned_pdf_reports_no_signature(roots):
    result = verify_pdf(render_pdf("<p>x</p>", document_id="u-1"), roots)
    assert (result.ok, result.error, result.document_id) == (False, "no_signature", "u-1")


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_signed_pdf_never_raises(signed, roots, fraction):
    assert not verify_pdf(signed[: int(len(signed) * fraction)], roots).ok


# --- output properties ------------------------------------------------------------


def test_signed_pdf_keeps_text_and_document_id(signed, tmp_path):
    path = tmp_path / "signed.pdf"
    path.write_bytes(signed)
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"],
        check=True, capture_output=True, text=True,
    ).stdout
    assert "绩效考核报告" in text and "广告销售成本比" in text and "87" in text
    assert f"Signed for: {ORG}" in text  # the stamp's appearance stream
    assert read_document_id(signed) == "appraisal-7"


def _signature_widget(data: bytes):
    reader = PdfFileReader(io.BytesIO(data))
    signature = reader.embedded_signatures[0]
    assert signature.field_name == SIGNATURE_FIELD
    return reader, signature.sig_field


def test_visible_stamp_on_last_page(signer):
    html = "<p>page one</p><p style='page-break-before: always'>page two</p>"
    data = sign_pdf(render_pdf(html), signer, reason="r", location="l", org_name=ORG)
    reader, widget = _signature_widget(data)
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    assert x2 - x1 > 100 and y2 - y1 > 20
    assert y2 < 60  # inside the bottom page margin
    assert widget["/P"].get_object() is reader.root["/Pages"]["/Kids"][-1].get_object()
    assert "/AP" in widget


def test_stamp_text_is_latin_only_for_cjk_org(signer, roots):
    data = sign_pdf(render_pdf("<p>x</p>"), signer, reason="r", location="l",
                    org_name="深圳跨境电商有限公司")
    assert verify_pdf(data, roots).ok


def test_sign_garbage_raises_signing_error(signer):
    with pytest.raises(SigningError):
        sign_pdf(b"not a pdf", signer, reason="r", location="l", org_name=ORG)


# --- PAdES B-T with a local RFC 3161 TSA ------------------------------------------


def _tsa_pki(tmp_path: Path):
    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA Root")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # Dummy TSA is RSA-only
    tsa = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
        .issuer_name(ca_name).public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = tmp_path / "tsa-root.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    der = serialization.Encoding.DER
    stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa.public_bytes(der)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(tsa_key.private_bytes(
            der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
    )
    return stamper, ca_path


@pytest.fixture
def tsa(tmp_path):
    stamper, ca_path = _tsa_pki(tmp_path)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request = tsp.TimeStampReq.load(self.rfile.read(int(self.headers["Content-Length"])))
            body = stamper.request_tsa_response(request).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/", ca_path
    server.shutdown()
    server.server_close()


def test_pades_b_t_with_timestamp(signer, pki, tsa):
    url, tsa_root = tsa
    data = sign_pdf(render_pdf("<p>x</p>"), signer, reason="r", location="l",
                    org_name=ORG, timestamp_url=url)
    result = verify_pdf(data, trust_roots_from([pki.ca_cert, tsa_root]))
    assert result.ok, result
    assert abs(result.signed_at - datetime.now(timezone.utc)) < timedelta(minutes=10)
    # A timestamp from a TSA we do not trust is not accepted.
    assert verify_pdf(data, trust_roots_from([pki.ca_cert])).error == "bad_timestamp"


def test_unreachable_tsa_raises_signing_error(signer):
    with pytest.raises(SigningError):
        sign_pdf(render_pdf("<p>x</p>"), signer, reason="r", location="l",
                 org_name=ORG, timestamp_url="http://127.0.0.1:9/")


# --- timing (reported, not asserted) ----------------------------------------------


def test_render_and_sign_timing(signer, roots, capsys):
    timings = []
    for run in range(7):
        start = time.perf_counter()
        data = sign_pdf(render_pdf(REPORT_HTML, document_id=f"t-{run}"), signer,
                        reason="Cycle closed", location="HR", org_name=ORG)
        timings.append(time.perf_counter() - start)
    assert verify_pdf(data, roots).ok
    with capsys.disabled():
        print(
            f"\n[pdf timing] render+sign one-page report: median "
            f"{statistics.median(timings) * 1000:.0f} ms, min {min(timings) * 1000:.0f} ms,"
            f" max {max(timings) * 1000:.0f} ms over {len(timings)} runs (pid {os.getpid()})"
        )
