# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Session fixture ``ee_tag``: the local execution environment, built once per session
(ee_image.ensure_image()); its build time and size end the pytest summary."""

import importlib.util
import pathlib

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "edgemesh_ee_image_conftest", pathlib.Path(__file__).resolve().parent / "ee_image.py"
)
ee_image = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(ee_image)
_REPORTS = []


def describe(info):
    built = "%.0f s" % info["build_seconds"] if info["build_seconds"] is not None else "unknown"
    return (
        "EE %s: content %s, build time %s, image size %.0f MB (%d bytes, podman image inspect)"
        % (
            info["tag"],
            info["content"],
            built,
            info["size_bytes"] / 1e6,
            info["size_bytes"],
        )
    )


@pytest.fixture(scope="session")
def ee_tag():
    tag = ee_image.ensure_image()
    info = ee_image.report(tag)
    _REPORTS.append(info)
    print("\n" + describe(info))
    return tag


def pytest_terminal_summary(terminalreporter):
    for info in _REPORTS:
        terminalreporter.write_line(describe(info))
