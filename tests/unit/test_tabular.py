"""People import/export tables use the parsers' one safe reader: same limits, same CSV rules."""

import io
import zipfile

import pytest

from kpiapp import tabular
from kpiapp.parsers import common


def xlsx_with_entries(count: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for i in range(count):
            archive.writestr("x%d.xml" % i, "<x/>")
    return buffer.getvalue()


def test_zip_entry_limit_is_the_parsers_limit(monkeypatch):
    monkeypatch.setattr(common, "MAX_XLSX_ENTRIES", 3)
    with pytest.raises(tabular.TableError) as exc:
        tabular.read_table(xlsx_with_entries(4), "people.xlsx")
    assert exc.value.code == "xlsx_too_large"


def test_uncompressed_size_limit_is_the_parsers_limit(monkeypatch):
    monkeypatch.setattr(common, "MAX_XLSX_UNCOMPRESSED", 10)
    with pytest.raises(tabular.TableError) as exc:
        tabular.read_table(xlsx_with_entries(4), "people.xlsx")
    assert exc.value.code == "xlsx_too_large"


def test_header_limits_apply_to_people_files():
    wide = (",".join("c%d" % i for i in range(3000)) + "\n").encode()
    with pytest.raises(tabular.TableError) as exc:
        tabular.read_table(wide, "people.csv")
    assert exc.value.code == "too_many_columns"


def test_csv_rows_and_quotes_as_before():
    data = '\ufeffemail,name\r\n"a@example.com","Li, Wei"\r\n\r\nb@example.com,Bo\r\n'.encode()
    assert tabular.read_table(data, "people.csv") == [
        ["email", "name"], ["a@example.com", "Li, Wei"], ["b@example.com", "Bo"]]


def test_latin1_people_file_is_still_refused():
    with pytest.raises(tabular.TableError) as exc:
        tabular.read_table("email,name\nx@example.com,\xe9\n".encode("latin-1"), "people.csv")
    assert exc.value.code == "bad_encoding"


def test_export_round_trip_through_the_shared_reader():
    rows = [["a@example.com", "=cmd", "张伟"]]
    for body, name in ((tabular.write_csv(["email", "note", "name"], rows), "p.csv"),
                       (tabular.write_xlsx(["email", "note", "name"], rows), "p.xlsx")):
        assert tabular.read_table(body, name) == [["email", "note", "name"], ["a@example.com", "'=cmd", "张伟"]]
