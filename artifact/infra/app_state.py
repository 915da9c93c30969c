"""What infrastructure needs of the application: its settings and a place to keep the one
instance of a store or an index per application. A Flask app fits; infra never imports Flask."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class AppState(Protocol):
    @property
    def config(self) -> Mapping[str, Any]: ...

    @property
    def extensions(self) -> dict[str, Any]: ...
