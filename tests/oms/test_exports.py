"""The writing of exports: one implementation of CSV and Excel for every list."""

import datetime
import io

import openpyxl
import pytest
from django.http import QueryDict
from django.test import override_settings

from oms import exports
from tests.exports import csv_rows, filename, xlsx_rows

HOSTILE = ["=1+2", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")']


def test_a_csv_cell_a_spreadsheet_would_run_as_a_formula_starts_with_a_quote():
    response = exports.csv_response("x.csv", ["Text"], [[value] for value in HOSTILE])
    assert [row[0] for row in csv_rows(response)[1:]] == ["'" + value for value in HOSTILE]


def test_harmless_text_and_numbers_are_written_as_they_are_in_csv():
    rows = [["MO-1", 5, -3, None, True, datetime.date(2026, 12, 3)]]
    response = exports.csv_response("x.csv", list("abcdef"), rows)
    assert csv_rows(response)[1] == ["MO-1", "5", "-3", "", "yes", "2026-12-03"]


def test_an_excel_cell_a_spreadsheet_would_run_as_a_formula_is_a_text_cell():
    response = exports.xlsx_response("x.xlsx", ["Text"], [[value] for value in [*HOSTILE, "#N/A"]])
    body = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).worksheets[0]
    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    # (XML reads a carriage return as a line feed)
    assert [c.value for c in cells] == [v.replace("\r", "\n") for v in [*HOSTILE, "#N/A"]]
    assert {c.data_type for c in cells} == {"s"}


def test_excel_keeps_numbers_and_dates_as_numbers_and_dates():
    response = exports.xlsx_response(
        "x.xlsx", ["n", "d"], [[7, datetime.date(2026, 12, 3)], [None, datetime.date(2026, 1, 2)]]
    )
    rows = xlsx_rows(response)
    assert rows[0] == ["n", "d"]
    assert rows[1] == [7, datetime.datetime(2026, 12, 3)]
    assert rows[2] == [None, datetime.datetime(2026, 1, 2)]


@override_settings(TIME_ZONE="America/New_York")
def test_times_are_written_in_the_server_time_zone_in_both_formats():
    when = datetime.datetime(2026, 12, 3, 15, 30, tzinfo=datetime.UTC)
    assert csv_rows(exports.csv_response("x.csv", ["t"], [[when]]))[1] == ["2026-12-03 10:30:00"]
    assert xlsx_rows(exports.xlsx_response("x.xlsx", ["t"], [[when]]))[1] == [
        datetime.datetime(2026, 12, 3, 10, 30)
    ]


def test_control_characters_xml_cannot_hold_are_left_out_of_excel_not_a_crash():
    response = exports.xlsx_response("x.xlsx", ["Text"], [["a\x00b\x1bc"]])
    assert xlsx_rows(response)[1] == ["abc"]


def test_the_file_name_names_the_filters_in_safe_characters():
    query = QueryDict("status=draft&status=approved&market=NYC&page=3&q=")
    name = exports.export_filename(
        "orders",
        "csv",
        query=query,
        names=["q", "status", "market"],
        today=datetime.date(2026, 12, 3),
    )
    assert name == "orders_status-draft-approved_market-NYC_2026-12-03.csv"


@pytest.mark.parametrize(
    "hostile", ['"; rm -rf /', "../../etc/passwd", "a\r\nSet-Cookie: x=1", "ñandú/Ω", "x" * 500]
)
def test_a_hostile_filter_value_leaves_only_letters_digits_and_hyphens_in_the_name(hostile):
    query = QueryDict(mutable=True)
    query["q"] = hostile
    name = exports.export_filename("orders", "xlsx", query=query, names=["q"])
    stem = name.removesuffix(".xlsx")
    assert all(c.isascii() and (c.isalnum() or c in "-_") for c in stem)
    assert len(name) <= exports.NAME_MAX
    response = exports.csv_response(name, ["a"], [])
    assert filename(response) == name


def test_a_long_export_is_sent_in_blocks_not_in_one_piece():
    rows = ([f"MO-{n:07d}", "x" * 50] for n in range(5000))
    response = exports.csv_response("x.csv", ["a", "b"], rows)
    blocks = list(response.streaming_content)
    assert len(blocks) > 3 and max(len(b) for b in blocks) < 2 * exports.BLOCK_SIZE
