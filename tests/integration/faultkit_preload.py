"""Imported once by the crash tests' fork server, so each forked pipeline run starts warm and alike.

Great Expectations alone takes 6-9 s to import; paying that once instead of per
faulted run and per re-run is what keeps the fault matrix within minutes. Every
module a run imports lazily is imported here too, so the clean run and every
faulted and repeated run of one test session execute the same code, even while
the working tree is being edited.
"""

import importlib
import pkgutil

from tests.integration import faultkit  # noqa: F401

import safetynet
from safetynet.validation import gxrun

_NOT_IN_A_RUN = ("safetynet.orchestration", "safetynet.dashboard", "safetynet.generate", "safetynet.cli")

for _module in pkgutil.walk_packages(safetynet.__path__, "safetynet."):
    if not _module.name.startswith(_NOT_IN_A_RUN):
        importlib.import_module(_module.name)
gxrun.import_gx()
