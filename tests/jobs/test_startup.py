"""Production start-up checks: no REDIS_URL, a broken signing key; /healthz reports signing."""
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from config import Config, TestConfig
from kpiapp.app import create_app
from kpiapp.pdf.signing import _build_ca, _build_leaf, _x509_name, ensure_demo_certificate
from kpiapp.startup import StartupRefused


def production(tmp_path, **settings):
    attrs = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite'}", "INSTANCE_DIR": tmp_path,
             "SECRET_KEY": "x", "REDIS_URL": None, "INPROCESS_JOBS": False, **settings}
    return type("ProductionConfig", (Config,), attrs)


def refusal(config):
    with pytest.raises(StartupRefused) as caught:
        create_app(config)
    message = str(caught.value)
    assert message.startswith("kpiapp refuses to start: ") and "\n" not in message
    assert caught.value.code != 0
    return message


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return ensure_demo_certificate(tmp_path_factory.mktemp("pki") / "org", "Startup Test Org")


def p12_settings(pki, passphrase_file=None):
    return {"SIGNING_P12_PATH": str(pki.p12), "SIGNING_CA_PATHS": (str(pki.ca_cert),),
            "SIGNING_P12_PASSPHRASE_FILE": str(passphrase_file or pki.passphrase_file),
            "INPROCESS_JOBS": True}


def expired_pem(directory):
    """A CA and a signing certificate issued four years ago (the leaf is valid three)."""
    then = datetime.now(timezone.utc) - timedelta(days=4 * 365)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _build_ca(ca_key, _x509_name("Old Org", "Old CA"), then)
    leaf = _build_leaf(key, _x509_name("Old Org", "Old Signer"), ca_key, ca, then)
    pem = serialization.Encoding.PEM
    paths = {name: directory / f"{name}.pem" for name in ("ca", "cert", "key")}
    paths["ca"].write_bytes(ca.public_bytes(pem))
    paths["cert"].write_bytes(leaf.public_bytes(pem))
    paths["key"].write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return {"SIGNING_KEY_PATH": str(paths["key"]), "SIGNING_CERT_PATH": str(paths["cert"]),
            "SIGNING_CA_PATHS": (str(paths["ca"]),), "INPROCESS_JOBS": True}


def test_production_without_redis_refuses_to_start(tmp_path):
    assert "REDIS_URL" in refusal(production(tmp_path))


def test_in_process_jobs_must_be_asked_for(tmp_path):
    app = create_app(production(tmp_path, INPROCESS_JOBS=True))
    assert app.config["REDIS_URL"] is None


def test_dev_and_test_start_without_redis(tmp_path):
    assert create_app(type("T", (TestConfig,), {"INSTANCE_DIR": tmp_path})).config["REDIS_URL"] is None


def test_a_good_signing_key_is_loaded_at_start_up(tmp_path, pki):
    app = create_app(production(tmp_path, **p12_settings(pki)))
    assert "kpiapp.signing" in app.extensions  # loaded once, reused by the first signing


def test_wrong_passphrase_refuses_to_start(tmp_path, pki):
    wrong = tmp_path / "wrong.pass"
    wrong.write_bytes(b"not-the-passphrase\n")
    assert "signing key" in refusal(production(tmp_path, **p12_settings(pki, wrong)))


def test_unreadable_key_file_refuses_to_start(tmp_path, pki):
    settings = {**p12_settings(pki), "SIGNING_P12_PASSPHRASE_FILE": str(tmp_path / "absent.pass")}
    assert "absent.pass" in refusal(production(tmp_path, **settings))
    settings = {**p12_settings(pki), "SIGNING_P12_PATH": str(tmp_path / "absent.p12")}
    assert "signing key" in refusal(production(tmp_path, **settings))


def test_expired_certificate_refuses_to_start(tmp_path):
    assert "not valid now" in refusal(production(tmp_path, **expired_pem(tmp_path)))


def healthz(tmp_path, **settings):
    config = type("T", (TestConfig,), {"INSTANCE_DIR": tmp_path, "SECRET_KEY": "x",
                                       "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.sqlite'}",
                                       **settings})
    response = create_app(config).test_client().get("/healthz")
    return response.status_code, response.get_json()["signing"]


def test_healthz_reports_the_signing_key(tmp_path, pki):
    assert healthz(tmp_path) == (200, "demo")  # nothing configured: the demo CA, made on first use
    assert healthz(tmp_path, **p12_settings(pki)) == (200, "ok")


def test_healthz_reports_a_broken_signing_key(tmp_path, pki):
    wrong = tmp_path / "wrong.pass"
    wrong.write_bytes(b"not-the-passphrase\n")
    assert healthz(tmp_path, **p12_settings(pki, wrong)) == (503, "broken")
    assert healthz(tmp_path, **expired_pem(tmp_path)) == (503, "broken")


def test_healthz_reports_a_certificate_that_expired_while_running(tmp_path, pki, monkeypatch):
    from kpiapp.reports import services

    app = create_app(production(tmp_path, **p12_settings(pki)))  # loaded and valid at start-up
    monkeypatch.setattr(services, "utcnow", lambda: datetime.now(timezone.utc) + timedelta(days=20 * 365))
    with app.app_context():
        assert services.signing_health(app) == "expired"


@pytest.mark.parametrize("content, problem", [(b"short key", "at least 32 bytes"), (None, "No such file")])
def test_an_unusable_audit_key_stops_the_start_in_any_environment(tmp_path, content, problem):
    key = tmp_path / "audit.key"
    if content is not None:
        key.write_bytes(content)
    config = type("T", (TestConfig,), {"INSTANCE_DIR": tmp_path, "AUDIT_HMAC_KEY_FILE": str(key)})
    with pytest.raises(StartupRefused) as refused:
        create_app(config)
    assert "the audit key cannot be used" in str(refused.value) and problem in str(refused.value)


def test_a_good_audit_key_starts(tmp_path):
    key = tmp_path / "audit.key"
    key.write_bytes(b"k" * 32)
    config = type("T", (TestConfig,), {"INSTANCE_DIR": tmp_path, "AUDIT_HMAC_KEY_FILE": str(key)})
    assert create_app(config).config["AUDIT_HMAC_KEY_FILE"] == str(key)
