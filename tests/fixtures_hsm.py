"""A PKCS#11 token for the tests: Debian's SoftHSM2 with its token directory in a temporary
folder (SOFTHSM2_CONF), a fresh token per test made with `softhsm2-util --init-token`. Absent
softhsm2, the tests skip saying so, except where SOFTHSM_REQUIRED is set (CI)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

MODULES = (
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
)
PIN = "4711-test-pin"
SO_PIN = "0815-test-so-pin"


def softhsm_module() -> str:
    found = next((m for m in MODULES if Path(m).exists()), None)
    util = shutil.which("softhsm2-util")
    if found is None or util is None:
        if os.environ.get("SOFTHSM_REQUIRED"):
            pytest.fail("SOFTHSM_REQUIRED is set but SoftHSM2 is absent: install softhsm2")
        pytest.skip("SoftHSM2 is absent: install Debian's softhsm2 to run the PKCS#11 tests")
    return found


@pytest.fixture(scope="session")
def softhsm_conf(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """SoftHSM2's configuration and token directory for this session (read by the module when
    it is loaded, and by softhsm2-util)."""
    softhsm_module()
    root = tmp_path_factory.mktemp("softhsm")
    (root / "tokens").mkdir()
    conf = root / "softhsm2.conf"
    conf.write_text(
        f"directories.tokendir = {root / 'tokens'}\nobjectstore.backend = file\nlog.level = ERROR\n"
    )
    saved = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    yield conf
    if saved is None:
        os.environ.pop("SOFTHSM2_CONF", None)
    else:
        os.environ["SOFTHSM2_CONF"] = saved


@pytest.fixture
def pkcs11_settings(softhsm_conf: Path) -> dict[str, str]:
    """A new, empty token; the settings that point the app at it."""
    label = f"artifact-{uuid.uuid4().hex[:12]}"
    subprocess.run(
        [
            "softhsm2-util",
            "--init-token",
            "--free",
            "--label",
            label,
            "--pin",
            PIN,
            "--so-pin",
            SO_PIN,
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "SOFTHSM2_CONF": str(softhsm_conf)},
    )
    return {
        "KEK_PROVIDER": "pkcs11",
        "PKCS11_MODULE": softhsm_module(),
        "PKCS11_TOKEN": label,
        "PKCS11_PIN": PIN,
    }
