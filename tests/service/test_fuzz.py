"""Schema-driven fuzzing: schemathesis generates requests from the service's own OpenAPI
document and checks that no answer is a server error or contradicts the document.

It runs against a ready `calle serve` over real HTTP with an admin key, a stored snapshot and
a champion in the registry, on both engines; a fixed seed and a bounded number of examples
keep it repeatable and short.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from calle.settings import Settings
from service.roles import Role
from tests.service.running_service import running_service

CHECKS = ",".join(
    [
        "not_a_server_error",
        "response_schema_conformance",
        "status_code_conformance",
        "content_type_conformance",
    ]
)


def test_no_generated_request_breaks_the_service_or_its_document(
    serving_settings: Settings, snapshot, keys, tmp_path: Path
):
    schemathesis = Path(sys.executable).with_name("schemathesis")
    with running_service(serving_settings, ready=True) as base:
        done = subprocess.run(
            [
                str(schemathesis),
                "run",
                f"{base}/openapi.json",
                "-H",
                f"Authorization: Bearer {keys[Role.admin]}",
                "--checks",
                CHECKS,
                "--max-examples",
                "25",
                "--seed",
                "1",
                "--workers",
                "1",
            ],
            cwd=tmp_path,  # schemathesis' own files stay out of the repository
            capture_output=True,
            text=True,
            timeout=600,
        )
    report = done.stdout[-6000:] + done.stderr[-2000:]
    assert done.returncode == 0, report
    counts = re.search(r"(\d+) generated, (\d+) passed", done.stdout)
    assert counts, report
    generated, passed = map(int, counts.groups())
    assert generated == passed and generated >= 200, report
