"""Test fixtures: a real dfbs-vo server on a private PostgreSQL cluster in a temporary
directory, with a small known catalogue."""
import os
import pathlib
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(os.environ.get("DFBS_VO_BIN", ROOT / "target" / "debug" / "dfbs-vo"))

FIXTURE_SQL = """
INSERT INTO dfbs.plates (plateid, emulsion, ra_center, dec_center, date_obs, exptime)
VALUES ('fbs0001', 'IIF', 10, 20, '1968-05-24 01:02:03', 1200),
       ('fbs0002', 'IIaF', 200, 40, '1971-02-18 02:30:00', 1200);
INSERT INTO dfbs.spectra (specid, objectid, plate, ra, dec, magb, magr, sp_class, class_label, class_prob, flux)
SELECT 'fbs0001-' || i, 'DFBSJ' || i, 'fbs0001', 10 + (i % 100) * 0.01, 20 + (i / 100) * 0.01,
       12 + (i % 70) * 0.1, 11.5 + (i % 70) * 0.1, CASE WHEN i % 10 = 0 THEN 'NL' ELSE 'OK' END,
       CASE WHEN i % 7 = 0 THEN 'carbon' ELSE 'star' END, 0.9, array_fill((i % 5)::real, ARRAY[136])
  FROM generate_series(1, 500) AS i;
INSERT INTO dfbs.spectra (specid, objectid, plate, ra, dec, magb, sp_class)
VALUES ('fbs0002-unicode', 'Ünïcødé ✓', 'fbs0002', 200, 40, NULL, 'U');
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    def __init__(self, data_dir):
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, DFBS__DATABASE__DATA_DIR=str(data_dir),
                        DFBS__SERVICE__BASE_URL=self.url, RUST_LOG="warn",
                        DFBS__LIMITS__UPLOAD_MAX_ROWS="5000")
        self.env.pop("DATABASE_URL", None)
        self.process = subprocess.Popen(
            [str(BIN), "--project-dir", str(ROOT), "serve", "--listen", f"127.0.0.1:{self.port}"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/tap/availability", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("dfbs-vo serve exited: " + self.process.stderr.read().decode())
                time.sleep(0.2)
        raise RuntimeError("dfbs-vo serve did not answer within 60 s")

    def psql(self, sql):
        subprocess.run([str(BIN), "--project-dir", str(ROOT), "db", "psql", "-v", "ON_ERROR_STOP=1", "-qc", sql],
                       env=self.env, check=True, capture_output=True)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def service():
    if not BIN.exists():
        pytest.fail(f"{BIN} is missing: run cargo build first")
    # Traversable (0755): as root the cluster runs as dfbsvo, which must reach it; in a
    # private directory the cluster would live in /var/lib/dfbs-vo, outside what we remove.
    base = pathlib.Path(tempfile.mkdtemp(prefix="dfbs-vo-pytest-"))
    base.chmod(0o755)
    svc = Service(base / "pg")
    try:
        svc.psql(FIXTURE_SQL)
        yield svc
    finally:
        svc.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def tap(service):
    import pyvo
    return pyvo.dal.TAPService(service.url + "/tap")
