"""The TAP service as pyvo and astropy users see it."""
import io
import urllib.error
import urllib.parse
import urllib.request
import warnings

import pytest
import pyvo
from astropy.io import votable
from astropy.table import Table


def test_search_returns_rows_with_metadata(tap):
    result = tap.search("SELECT TOP 10 specid, ra, dec, magb FROM dfbs.spectra ORDER BY specid")
    table = result.to_table()
    assert len(table) == 10
    assert table["ra"].unit == "deg"
    # pyvo matches any shared UCD word, so ask for the one that is specific.
    assert result.fieldname_with_ucd("pos.eq.ra") == "ra"


def test_cone_search_via_adql(tap):
    result = tap.search("SELECT specid FROM dfbs.spectra "
                        "WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 10.0, 20.0, 0.015)) = 1")
    assert 1 <= len(result) < 10


def test_maxrec_overflow_warns(tap):
    with pytest.warns(Warning, match="(?i)overflow|truncat|partial"):
        result = tap.search("SELECT specid FROM dfbs.spectra", maxrec=7)
    assert len(result) == 7


def test_bad_query_raises_our_message(tap):
    with pytest.raises(pyvo.dal.DALQueryError, match="did you mean magb"):
        tap.search("SELECT mgb FROM dfbs.spectra")


def test_tables_and_describe(tap):
    tables = tap.tables
    names = [t.name for t in tables]
    assert "dfbs.spectra" in names and "tap_schema.columns" in names
    spectra = tables["dfbs.spectra"]
    columns = {c.name: c for c in spectra.columns}
    assert columns["ra"].unit == "deg"
    assert columns["flux"].datatype.arraysize == "136"
    tap.describe()


def test_unicode_and_nulls_round_trip(tap):
    table = tap.search("SELECT objectid, magb FROM dfbs.spectra WHERE specid = 'fbs0002-unicode'").to_table()
    assert table["objectid"][0] == "Ünïcødé ✓"
    assert table["magb"].mask[0]


@pytest.mark.parametrize("fmt", ["votable", "votable/td", "votable/b", "votable/b2",
                                 "application/x-votable+xml", "csv", "text/csv", "tsv",
                                 "text/tab-separated-values"])
def test_astropy_reads_every_format(service, fmt):
    query = "SELECT TOP 20 specid, ra, dec, magb, sp_class, flux FROM dfbs.spectra ORDER BY specid"
    url = service.url + "/tap/sync?" + urllib.parse.urlencode(
        {"LANG": "ADQL", "QUERY": query, "RESPONSEFORMAT": fmt})
    data = urllib.request.urlopen(url, timeout=60).read()
    if "csv" in fmt:
        table = Table.read(io.BytesIO(data), format="ascii.csv")
    elif "tsv" in fmt or "tab-separated" in fmt:
        table = Table.read(io.BytesIO(data), format="ascii.tab")
    else:
        table = votable.parse_single_table(io.BytesIO(data)).to_table()
    assert len(table) == 20
    assert list(table.colnames[:4]) == ["specid", "ra", "dec", "magb"]
    assert table["specid"][0] == "fbs0001-1"
    assert abs(float(table["ra"][0]) - 10.01) < 1e-12


def test_run_async(tap):
    result = tap.run_async("SELECT TOP 15 specid, ra FROM dfbs.spectra ORDER BY specid")
    assert len(result) == 15


def test_submit_job_wait_fetch_delete(tap):
    job = tap.submit_job("SELECT specid, magb FROM dfbs.spectra WHERE magb < 13", runid="pyvo-test")
    assert job.phase == "PENDING"
    job.run()
    job.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=60)
    assert job.phase == "COMPLETED"
    assert job.result_uri.endswith("/results/result")
    table = job.fetch_result().to_table()
    assert len(table) > 0 and (table["magb"] < 13).all()
    job.delete()


def test_async_error_raises_our_message(tap):
    with pytest.raises(pyvo.dal.DALQueryError, match="did you mean magb"):
        tap.run_async("SELECT mgb FROM dfbs.spectra")


CROSSMATCH = ("SELECT u.id, s.specid, DISTANCE(POINT('ICRS', u.ra, u.dec), POINT('ICRS', s.ra, s.dec)) AS d "
              "FROM TAP_UPLOAD.mine AS u JOIN dfbs.spectra AS s "
              "ON CONTAINS(POINT('ICRS', s.ra, s.dec), CIRCLE('ICRS', u.ra, u.dec, 0.001)) = 1")


def upload_table():
    from astropy.table import Table
    return Table({"id": ["a", "b", "far"], "ra": [10.01, 10.02, 100.0], "dec": [20.0, 20.0, 0.0]})


def test_upload_crossmatch_sync(tap):
    table = tap.search(CROSSMATCH, uploads={"mine": upload_table()}).to_table()
    assert sorted(table["id"]) == ["a", "b"]
    assert all(d < 0.001 for d in table["d"])


def test_upload_crossmatch_async(tap):
    table = tap.run_async(CROSSMATCH, uploads={"mine": upload_table()}).to_table()
    assert sorted(table["id"]) == ["a", "b"]


def test_upload_errors_are_reported(tap):
    with pytest.raises(pyvo.dal.DALQueryError, match="TAP_UPLOAD.other"):
        tap.search("SELECT * FROM TAP_UPLOAD.other", uploads={"mine": upload_table()})


def test_upload_row_limit_is_enforced(tap):
    from astropy.table import Table
    big = Table({"id": [str(i) for i in range(5001)], "ra": [10.0] * 5001, "dec": [20.0] * 5001})
    with pytest.raises(pyvo.dal.DALQueryError, match="upload limit"):
        tap.search("SELECT COUNT(*) FROM TAP_UPLOAD.big", uploads={"big": big})


def test_upload_urls_to_internal_hosts_are_refused(service):
    # The service's own loopback address: the request-forgery case.
    url = service.url + "/tap/sync?" + urllib.parse.urlencode({
        "LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.t",
        "UPLOAD": f"t,{service.url}/tap/tables"})
    try:
        urllib.request.urlopen(url, timeout=60)
        raise AssertionError("the upload from a loopback URL was accepted")
    except urllib.error.HTTPError as e:
        body = e.read().decode()
        assert e.code == 400 and "not a public address" in body, body
