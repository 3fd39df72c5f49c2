"""Sealed secrets: ciphertext at rest, plain in Python, rotation to a new key."""
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text

from kpiapp import vault


@pytest.fixture
def keys(monkeypatch):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("VAULT_KEYS", old)
    return old, new


def secrets_table():
    metadata = MetaData()
    table = Table("secrets", metadata, Column("id", Integer, primary_key=True), Column("token", vault.Sealed()))
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    return engine, table


def test_sealed_column_stores_ciphertext_and_reads_plain(keys):
    engine, table = secrets_table()
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=1, token="Atzr|refresh-token-123"))
        raw = connection.execute(text("SELECT token FROM secrets")).scalar_one()
        plain = connection.execute(select(table.c.token)).scalar_one()
    assert "refresh-token-123" not in raw
    assert Fernet(keys[0].encode()).decrypt(raw.encode()) == b"Atzr|refresh-token-123"
    assert plain == "Atzr|refresh-token-123"


def test_none_stays_none(keys):
    assert vault.seal(None) is None and vault.unseal(None) is None


def test_rotation_reseals_with_the_newest_key_and_old_key_can_go(keys, monkeypatch):
    old, new = keys
    engine, table = secrets_table()
    with engine.begin() as connection:
        connection.execute(insert(table).values(id=1, token="shpk-secret"))
    monkeypatch.setenv("VAULT_KEYS", f"{new},{old}")
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        class Model:  # what rotate_all needs of a mapped class
            __table__ = table
        assert vault.rotate_all(session, [Model]) == 1
        session.commit()
    monkeypatch.setenv("VAULT_KEYS", new)
    with engine.begin() as connection:
        raw = connection.execute(text("SELECT token FROM secrets")).scalar_one()
        assert connection.execute(select(table.c.token)).scalar_one() == "shpk-secret"
    assert Fernet(new.encode()).decrypt(raw.encode()) == b"shpk-secret"


def test_a_value_sealed_with_a_dropped_key_is_an_error_not_garbage(keys, monkeypatch):
    token = vault.seal("x")
    monkeypatch.setenv("VAULT_KEYS", keys[1])
    with pytest.raises(vault.VaultError):
        vault.unseal(token)


def test_without_vault_keys_a_key_is_generated_once_into_the_instance(tmp_path, monkeypatch):
    monkeypatch.delenv("VAULT_KEYS", raising=False)
    first = vault.configured_keys(tmp_path)
    assert vault.configured_keys(tmp_path) == first
    assert (tmp_path / "vault_key").stat().st_mode & 0o777 == 0o600
