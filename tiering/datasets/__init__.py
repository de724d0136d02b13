"""Generated data to work on: a seeded, calibrated panel of technology SMEs and an analyst-format writer.

    from tiering.datasets import generate_panel, calibration_report, write_register
    generated = generate_panel(520, (2005, 2010), seed=1, district="东丽区")
    print(calibration_report(generated.panel, 2010))
    write_register(generated.panel, "dongli.xlsx")
"""

from __future__ import annotations

from tiering.datasets.calibration import PUBLISHED, calibration_report
from tiering.datasets.generate import GeneratedPanel, generate_panel
from tiering.datasets.writer import register_frame, write_register

__all__ = ["PUBLISHED", "GeneratedPanel", "calibration_report", "generate_panel", "register_frame", "write_register"]
