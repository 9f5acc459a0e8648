"""The SARIF 2.1.0 report, for code-scanning dashboards: one result per finding, located at the page URL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..model import ScanResult, Severity
from ..rules import RULES

__all__ = ["SARIF_SCHEMA", "to_sarif", "write_sarif"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def to_sarif(result: ScanResult, tool_version: str = "") -> dict[str, Any]:
    rule_ids = list(RULES)
    rules = [
        {
            "id": r.id,
            "name": "".join(w.capitalize() for w in r.id.split("-")),
            "shortDescription": {"text": r.title},
            "fullDescription": {"text": r.help},
            "help": {"text": r.help},
            "defaultConfiguration": {"level": _LEVEL[r.severity]},
        }
        for r in RULES.values()
    ]
    results = []
    for f in result.findings:
        fingerprint = hashlib.sha256(
            "\0".join([f.rule, f.page, f.visit.value if f.visit else "", f.subject]).encode()
        ).hexdigest()
        results.append(
            {
                "ruleId": f.rule,
                "ruleIndex": rule_ids.index(f.rule),
                "level": _LEVEL[f.severity],
                "message": {"text": f"{f.message} [{f.subject}]"},
                "locations": [
                    {
                        "physicalLocation": {"artifactLocation": {"uri": f.page}},
                        "logicalLocations": [
                            {"name": f.visit.value if f.visit else "page", "kind": "module"}
                        ],
                    }
                ],
                "partialFingerprints": {"gatekeeperFinding/v1": fingerprint},
                "properties": {
                    "visit": f.visit.value if f.visit else None,
                    "subject": f.subject,
                    "service": f.service,
                    "evidence": [{"key": k, "value": v} for k, v in f.evidence],
                },
            }
        )
    driver: dict[str, Any] = {"name": "gatekeeper scan", "rules": rules}
    if tool_version:
        driver["version"] = tool_version
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "invocations": [{"executionSuccessful": True}],
                "originalUriBaseIds": {"SITE": {"uri": result.target}},
                "results": results,
            }
        ],
    }


def write_sarif(result: ScanResult, path: str | Path, tool_version: str = "") -> None:
    text = json.dumps(to_sarif(result, tool_version), indent=1, ensure_ascii=False)
    Path(path).write_text(text + "\n", "utf-8")
