"""Frameworks and regulations (trees of requirements) and crosswalk mappings between them."""

from artifact.frameworks.services.export import export_oscal
from artifact.frameworks.services.importing import FORMATS, ImportResult, import_file
from artifact.frameworks.services.queries import (
    MappedTo,
    children_by_parent,
    framework_choices,
    framework_mappings,
    get_framework,
    list_frameworks,
    requirement_by_name,
    requirements_of,
)

__all__ = [
    "FORMATS",
    "ImportResult",
    "MappedTo",
    "children_by_parent",
    "export_oscal",
    "framework_choices",
    "framework_mappings",
    "get_framework",
    "import_file",
    "list_frameworks",
    "requirement_by_name",
    "requirements_of",
]
