"""Reads a result document written by dfbs_vo::votable with the reference client libraries
(astropy, pyvo, Python's csv) and compares what they see with the expected values.

Usage: check.py MODE DOCUMENT EXPECTED_JSON
  MODE: votable | csv | tsv | error

EXPECTED_JSON: {"columns": [{"name", "type", "size"}], "rows": [[value, ...]],
"status": "OK" | "OVERFLOW" | "ERROR", "message": str or null}. Types: bool, int, float32,
float64, text, timestamp, float32[], float64[]; floats are given as text ("0.1", "NaN",
"inf"), NULL as null. Prints the differences and exits 1 if there are any.
"""
import csv
import io
import json
import math
import sys
import warnings

import numpy as np

problems = []


def short(value):
    text = repr(value)
    return text if len(text) < 300 else text[:300] + "..."


def problem(text):
    problems.append(text)


def is_masked(value):
    return value is np.ma.masked or (isinstance(value, np.ma.MaskedArray) and bool(np.all(value.mask)))


def float_equal(actual, expected, kind):
    """expected: text or None. NULL and NaN are the same to VOTable readers (astropy masks NaN)."""
    if expected is None or expected == "NaN":
        return actual is None or is_masked(actual) or (isinstance(actual, (float, np.floating)) and math.isnan(actual))
    if actual is None or is_masked(actual):
        return False
    if kind == "float32":
        return np.float32(actual).tobytes() == np.float32(expected).tobytes()
    return np.float64(actual).tobytes() == np.float64(float(expected)).tobytes()


def nullish_array(actual):
    """NULL as readers see it: masked, empty, or every element masked or NaN."""
    if actual is None or actual is np.ma.masked:
        return True
    data = np.ma.getdata(actual)
    mask = np.ma.getmaskarray(actual)
    if np.ndim(data) == 0:
        return bool(np.all(mask)) or math.isnan(float(data))
    return all(m or math.isnan(v) for v, m in zip(data, mask))


def array_equal(actual, expected, kind, size):
    element = kind[:-2]
    if expected is None or all(e in (None, "NaN") for e in expected):
        # NULL, empty or all-NaN arrays (NULL geometries are all-NaN in TABLEDATA).
        return nullish_array(actual)
    if actual is None or actual is np.ma.masked:
        return False
    data = np.ma.getdata(actual)
    mask = np.ma.getmaskarray(actual)
    if len(data) != len(expected):
        return False
    return all(
        float_equal(None if m else v, e, element) for v, m, e in zip(data, mask, expected)
    )


def value_equal(actual, expected, column, tabledata=False):
    kind = column["type"]
    if tabledata and kind == "text" and isinstance(expected, str):
        # astropy strips the whitespace around TD text (STIL keeps it).
        expected = expected.strip()
    if kind.endswith("[]"):
        return array_equal(actual, expected, kind, column.get("size"))
    if kind in ("float32", "float64"):
        return float_equal(actual, expected, kind)
    if expected is None:
        # NULL strings are masked or empty; NULL integers and booleans masked.
        return actual is None or is_masked(actual) or (kind in ("text", "timestamp") and actual == "")
    if is_masked(actual):
        # An empty string may be read as NULL (TABLEDATA cannot tell them apart).
        return kind in ("text", "timestamp") and expected == ""
    if kind == "bool":
        return bool(actual) == expected
    if kind == "int":
        return int(actual) == expected
    if isinstance(actual, bytes):
        actual = actual.decode("utf-8")
    return str(actual) == expected


def check_votable(path, expected):
    from astropy.io.votable import parse
    import pyvo

    # Strict: any astropy warning while reading (VOTable specification warnings such as
    # W55 "non-ASCII value in a char column", unit warnings) is a problem.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        votable = parse(path, verify="warn")
        votable.get_first_table().to_table()
    for w in caught:
        problem(f"astropy warns: {w.category.__name__}: {w.message}")
    resource = votable.resources[0]
    if resource.type != "results":
        problem(f"RESOURCE type {resource.type}")
    statuses = [info for info in resource.infos if info.name == "QUERY_STATUS"]
    if not statuses or statuses[0].value != "OK":
        problem("no leading QUERY_STATUS OK")
    last = statuses[-1] if statuses else None
    if last is None or last.value != expected["status"]:
        problem(f"last QUERY_STATUS {last and last.value}, expected {expected['status']}")
    if expected["status"] == "ERROR" and (last is None or last.content != expected["message"]):
        problem(f"error message {last and last.content!r}, expected {expected['message']!r}")

    # pyvo's view: the last QUERY_STATUS decides.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            results = pyvo.dal.DALResults(votable)
            if expected["status"] == "ERROR":
                problem("pyvo did not raise DALQueryError")
            elif expected["status"] == "OVERFLOW":
                if not any(issubclass(w.category, pyvo.dal.exceptions.DALOverflowWarning) for w in caught):
                    problem("pyvo did not warn of the overflow")
            if len(results) != len(expected["rows"]):
                problem(f"pyvo sees {len(results)} rows")
        except pyvo.dal.DALQueryError as e:
            if expected["status"] != "ERROR" or str(e) != expected["message"]:
                problem(f"pyvo raised {e!r}")

    table = votable.get_first_table()
    names = [field.name for field in table.fields]
    expected_names = [c["name"] for c in expected["columns"]]
    if names != expected_names:
        problem(f"names {names}, expected {expected_names}")
    array = table.array
    if len(array) != len(expected["rows"]):
        problem(f"{len(array)} rows, expected {len(expected['rows'])}")
    columns = [array[name] for name in array.dtype.names]
    for i, expected_row in enumerate(expected["rows"][: len(array)]):
        for j, (column, value) in enumerate(zip(expected["columns"], expected_row)):
            actual = columns[j][i]
            if not value_equal(actual, value, column, expected.get("tabledata", False)):
                problem(f"row {i} column {column['name']}: {short(actual)}, expected {short(value)}")
    # The astropy Table view (what most users call) reads too.
    table.to_table()


def text_value_equal(text, expected, column, dialect):
    kind = column["type"]
    if expected is None:
        return text == ""
    if kind.endswith("[]"):
        parts = text.split(" ") if text else []
        return len(parts) == len(expected) and all(
            float_equal(float(p), e, kind[:-2]) or (p == "NaN" and e in (None, "NaN")) for p, e in zip(parts, expected)
        )
    if kind in ("float32", "float64"):
        return float_equal(float(text), expected, kind)
    if kind == "bool":
        return text == ("true" if expected else "false")
    if kind == "int":
        return int(text) == expected
    return text == expected


def tsv_unescape(field):
    out = []
    chars = iter(field)
    for c in chars:
        if c == "\\":
            n = next(chars, "")
            out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(n, "\\" + n))
        else:
            out.append(c)
    return "".join(out)


def check_text(path, expected, dialect):
    from astropy.table import Table

    raw = open(path, "rb").read()
    text = raw.decode("utf-8")
    if dialect == "csv":
        # RFC 4180: every record ends with CRLF (LF inside quoted fields is data).
        if not text.endswith("\r\n"):
            problem("CSV does not end with CRLF")
        records = list(csv.reader(io.StringIO(text, newline=""), strict=True))
    else:
        lines = text.split("\n")
        if lines[-1] != "":
            problem("TSV does not end with a newline")
        records = [[tsv_unescape(f) for f in line.split("\t")] for line in lines[:-1]]
    names = [c["name"] for c in expected["columns"]]
    if records[0] != names:
        problem(f"header {records[0]}, expected {names}")
    rows = records[1:]
    if len(rows) != len(expected["rows"]):
        problem(f"{len(rows)} rows, expected {len(expected['rows'])}")
    for i, (row, expected_row) in enumerate(zip(rows, expected["rows"])):
        if len(row) != len(names):
            problem(f"row {i}: {len(row)} fields")
            continue
        for column, field, value in zip(expected["columns"], row, expected_row):
            if not text_value_equal(field, value, column, dialect):
                problem(f"row {i} column {column['name']}: {field!r}, expected {value!r}")

    # astropy's ASCII readers see the same table shape, names and numbers. (ascii.tab
    # takes a line of tabs only, a row of NULLs, for a blank line and skips it.)
    table = Table.read(path, format="ascii.csv" if dialect == "csv" else "ascii.tab")
    if table.colnames != names:
        problem(f"astropy names {table.colnames}")
    astropy_rows = [
        row for row in expected["rows"] if dialect == "csv" or any(v is not None for v in row)
    ]
    if len(table) != len(astropy_rows):
        problem(f"astropy reads {len(table)} rows, expected {len(astropy_rows)}")
        return
    for j, column in enumerate(expected["columns"]):
        if column["type"] in ("int", "float64", "float32"):
            for i, row in enumerate(astropy_rows):
                cell = table[column["name"]][i]
                want = row[j]
                ok = value_equal(cell, want, column) if column["type"] != "int" else (
                    (want is None and is_masked(cell)) or (want is not None and not is_masked(cell) and int(cell) == want)
                )
                if not ok:
                    problem(f"astropy row {i} column {column['name']}: {cell!r}, expected {want!r}")


def check_error(path, expected):
    from astropy.io.votable import parse
    import pyvo

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        votable = parse(path, verify="warn")
    for w in caught:
        problem(f"astropy warns: {w.category.__name__}: {w.message}")
    resource = votable.resources[0]
    if resource.type != "results" or len(resource.tables) != 0:
        problem("error document: RESOURCE type results without TABLE expected")
    infos = [(i.name, i.value, i.content) for i in resource.infos]
    if infos != [("QUERY_STATUS", "ERROR", expected["message"])]:
        problem(f"error document infos {infos!r}")
    try:
        pyvo.dal.DALResults(votable)
        problem("pyvo accepted the error document")
    except pyvo.dal.DALQueryError as e:
        if str(e) != expected["message"]:
            problem(f"pyvo message {str(e)!r}, expected {expected['message']!r}")


def main():
    mode, path, expected_path = sys.argv[1:4]
    expected = json.load(open(expected_path, encoding="utf-8"))
    if mode == "votable":
        check_votable(path, expected)
    elif mode in ("csv", "tsv"):
        check_text(path, expected, mode)
    elif mode == "error":
        check_error(path, expected)
    else:
        raise SystemExit(f"unknown mode {mode}")
    for p in problems[:50]:
        print(p)
    if problems:
        print(f"{len(problems)} problems")
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
