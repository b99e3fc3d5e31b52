"""STILTS taplint, the IVOA community's TAP validator, run against the service: every stage
but LOC (ObsLocTAP) and EPN (EPN-TAP), which describe data models this service does not
publish. The bar: no error, no warning, no failure."""
import re
import shutil
import subprocess

import pytest

STAGES = "TMV TME TMS TMC CPV CAP AVV QGE QPO QAS UWS MDQ OBS UPL EXA"


@pytest.mark.skipif(shutil.which("stilts") is None, reason="stilts is not installed (scripts/install.sh)")
def test_taplint_is_clean(service):
    result = subprocess.run(
        ["stilts", "taplint", f"tapurl={service.url}/tap", f"stages={STAGES}", "report=EWF", "maxrepeat=20"],
        capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    totals = re.findall(r"Totals: Errors: (\d+); Warnings: (\d+); Failures: (\d+)", output)
    assert totals, output[-3000:]
    errors, warnings, failures = map(int, totals[-1])
    print(f"taplint: {errors} errors, {warnings} warnings, {failures} failures")
    reports = [line for line in output.splitlines() if re.match(r"^[EWF]-", line)]
    assert (errors, warnings, failures) == (0, 0, 0), "\n".join(reports[:50])
