"""The schema tells the truth: schemathesis, with every check and every phase (examples,
coverage, fuzzing, stateful), over every operation, against a live server on
PostgreSQL holding orders in every state, finds no failure. The seed is fixed and the number of
examples per operation bounded, so the run is the same each time and takes a few
minutes. Settings that are not command-line options are in schemathesis.toml beside
this file (the statuses a well-formed request may still get, and no NUL bytes in
generated strings: NUL is refused on its own, which is not what this run checks); the
run adds the number of an existing order and the id of an existing release, so that
operations on them reach past 404."""

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from allocation import services as allocation_services
from allocation.choices import Trigger
from oms.actors import Actor
from orders.choices import OrderStatus
from tests import factories
from warehouse.integration.models import Release

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SEED = 20261202
MAX_EXAMPLES = 10
PHASES = "examples,coverage,fuzzing,stateful"
CONFIG = Path(__file__).with_name("schemathesis.toml")


def run_schemathesis(
    url: str, token: str, config: Path, report: Path
) -> subprocess.CompletedProcess:
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run"),
        f"{url}/api/v1/schema/?format=json",
        *("--checks", "all", "--phases", PHASES),
        *("--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES)),
        # No examples kept from earlier runs: every run is the same.
        *("--generation-database", "none"),
        *("--workers", "1", "--request-timeout", "60", "--no-color"),
        *("--header", f"Authorization: Bearer {token}"),
        *("--report", "json", "--report-json-path", str(report)),
    ]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=900, check=False, cwd=report.parent
    )


def figures(report: dict) -> str:
    kinds = Counter()
    for failure in report["failures"]:
        kinds[f"{failure['code']} {failure['title']}"] += failure["count"]
    for error in report["errors"]:
        kinds[f"error {error['title']}"] += error["count"]
    lines = [
        f"schemathesis {report['schemathesis_version']}, seed {report['seed']}, "
        f"{report['running_time']:.0f} s",
        f"operations: {report['operations']['tested']} tested of {report['operations']['total']}",
        f"cases: {report['test_cases']['generated']} generated, "
        f"{report['test_cases']['with_failures']} with failures",
        "phases: " + ", ".join(f"{k} {v['status']}" for k, v in report["phases"].items()),
        "failures by kind: " + (", ".join(f"{k}: {n}" for k, n in kinds.items()) or "none"),
    ]
    return "\n".join(lines)


def some_of_everything() -> dict[str, str]:
    """Orders in each state (with their project, items, stock, release and return) and a
    finished allocation run; the path parameters that name a draft order and the release
    of a released one."""
    warehouse = factories.WarehouseFactory()
    orders = {}
    for status in (
        OrderStatus.DRAFT,
        OrderStatus.APPROVED,
        OrderStatus.ALLOCATED,
        OrderStatus.RELEASED,
        OrderStatus.CLOSED,
        OrderStatus.PARTIALLY_RETURNED,
        OrderStatus.CANCELLED,
    ):
        orders[status] = factories.order_in(status, warehouse=warehouse)
    run = allocation_services.allocation_run_request(
        actor=Actor.system("tests"), trigger=Trigger.COMMAND, dry_run=True
    )
    allocation_services.allocation_run_execute(run_id=run.pk)
    release = Release.objects.get(order=orders[OrderStatus.RELEASED])
    return {"number": orders[OrderStatus.DRAFT].number, "release_id": str(release.release_id)}


def test_schemathesis_finds_no_failure_in_any_operation(live_server, make_caller, tmp_path):
    known = some_of_everything()
    caller = make_caller(throttle_rate="1000000/min")
    config = tmp_path / "schemathesis.toml"
    config.write_text(
        CONFIG.read_text()
        + "\n[parameters]\n"
        + "".join(f'{name} = "{value}"\n' for name, value in known.items())
    )
    report_path = tmp_path / "schemathesis.json"

    result = run_schemathesis(live_server.url, caller.token, config, report_path)

    assert report_path.exists(), result.stdout[-4000:] + result.stderr[-4000:]
    report = json.loads(report_path.read_text())
    print(figures(report))
    assert report["complete"], result.stdout[-8000:]
    assert report["operations"]["tested"] == report["operations"]["total"] >= 37
    assert all(p["status"] in {"success", "skipped"} for p in report["phases"].values()), report[
        "phases"
    ]
    assert report["failures"] == [], result.stdout[-12000:]
    assert report["errors"] == [], result.stdout[-12000:]
    assert result.returncode == 0, result.stdout[-8000:]
