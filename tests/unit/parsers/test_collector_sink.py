"""Collector with a sink (issue 10): what it spills, summed the way imports/stage.py sums it in
SQL, is what the in-memory collector keeps. No database: the sink is a list."""
from datetime import date
from pathlib import Path

import pytest

from kpiapp.parsers import Fact, parse_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"


class ListSink:
    def __init__(self, limit):
        self.limit, self.rows, self.rolls_up, self.opened = limit, [], False, []

    def open(self, family, rolls_up):
        assert not self.rows, "opened before the first write"
        self.opened.append((family, rolls_up))

    def write(self, rows):
        assert self.opened, "written before it was opened"
        self.rows.extend(rows)

    def roll_up(self):
        self.rolls_up = True


def settle(rows, rolls_up):
    """stage.py's grouping in Python: per key the first (lowest seq) fact rules; later facts
    with its currency and not `once` are summed; SKU sums go onto the SKU-less total."""
    firsts, sums = {}, {}
    for seq, line, day, end, measure, value, currency, sku, ref, code, once in sorted(rows):
        key = (day, end, sku, ref, measure, code)
        if key not in firsts:
            firsts[key], sums[key] = (line, currency), value
        elif not once and currency == firsts[key][1]:
            sums[key] += value
    if rolls_up:
        skus = {}
        for (day, end, sku, ref, measure, code), value in sums.items():
            if sku:
                group = (day, end, ref, measure, code)
                skus[group] = skus.get(group, 0) + value
        for key in sums:
            if not key[2]:
                sums[key] += skus.get((key[0], key[1], key[3], key[4], key[5]), 0)
    return sorted(Fact(line, key[0], key[4], sums[key], currency, key[2], key[3], key[1], key[5])
                  for key, (line, currency) in firsts.items())


@pytest.mark.parametrize("name, options", [
    ("amazon_settlement_us.txt", {"tz": "America/Los_Angeles"}),
    ("amazon_settlement_de.txt", {"tz": "Europe/Berlin"}),
])
@pytest.mark.parametrize("limit", [1, 2])
def test_spilled_facts_settle_to_the_in_memory_facts(name, options, limit):
    data = (FIXTURES / name).read_bytes()
    kept = parse_file(data, name, **options)
    sink = ListSink(limit)
    spilled = parse_file(data, name, sink=sink, **options)
    assert spilled.staged and spilled.facts == [] and not kept.staged
    assert [row[0] for row in sink.rows] == list(range(len(sink.rows)))  # seq: every fact, in order
    assert settle(sink.rows, sink.rolls_up) == sorted(kept.facts)
    assert sink.opened == [("amazon_settlement", True)]  # told before the first write that it will roll up
    assert ((spilled.errors, spilled.rows_read, spilled.currency)
            == (kept.errors, kept.rows_read, kept.currency))


def test_a_small_file_stays_in_memory():
    data = (FIXTURES / "amazon_settlement_us.txt").read_bytes()
    sink = ListSink(10_000)
    result = parse_file(data, "s.txt", sink=sink, tz="UTC")
    assert not result.staged and result.facts and sink.rows == []


def test_business_report_spills_every_limit_facts():
    data = ('"(Child) ASIN","Sessions - Total","Units Ordered","Ordered Product Sales"\n'
            + "".join(f'"B0{n:08d}","{n}","1","$2.00"\n' for n in range(7))).encode()
    sink = ListSink(4)
    options = {"parser": "amazon_business_report", "date_from": date(2025, 3, 1)}
    result = parse_file(data, "br.csv", sink=sink, **options)
    kept = parse_file(data, "br.csv", **options)
    assert result.staged and settle(sink.rows, False) == sorted(kept.facts)
    assert sink.opened == [("amazon_sales_traffic", False)]
