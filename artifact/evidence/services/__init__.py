"""Evidence (staff-only files with immutable versions, review and approval) and coverage."""

from artifact.evidence.services.coverage import (
    EXPIRING_DAYS,
    STATUSES,
    FrameworkCoverage,
    coverage_json,
    framework_coverage,
    report_names_framework,
)
from artifact.evidence.services.records import (
    UploadLimits,
    add_version,
    approve,
    create_evidence,
    get_evidence,
    list_evidence,
    requirement_names,
    send_back,
    set_links,
    state_choices,
    submit,
)
from artifact.evidence.services.serving import download, evidence_json, find_version

__all__ = [
    "EXPIRING_DAYS",
    "STATUSES",
    "FrameworkCoverage",
    "UploadLimits",
    "add_version",
    "approve",
    "coverage_json",
    "create_evidence",
    "download",
    "evidence_json",
    "find_version",
    "framework_coverage",
    "get_evidence",
    "list_evidence",
    "report_names_framework",
    "requirement_names",
    "send_back",
    "set_links",
    "state_choices",
    "submit",
]
