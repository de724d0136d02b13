"""Generated data to work on: a seeded, calibrated panel of technology SMEs and an analyst-format writer.

    from tiering.datasets import generate_panel, calibration_report, write_register
    generated = generate_panel(520, (2005, 2010), seed=1, district="东丽区")
    print(calibration_report(generated.panel, 2010))
    write_register(generated.panel, "dongli.xlsx")

A register too large to hold whole is made and written a block of firms at a time, in bounded memory:

    generated = generate_blocks(1_000_000, (2021, 2024), seed=1)
    write_register_blocks((b.panel for b in generated.blocks), "reg1m.parquet", rows=generated.rows)
"""

from __future__ import annotations

from tiering.datasets.calibration import PUBLISHED, calibration_report
from tiering.datasets.generate import GeneratedBlocks, GeneratedPanel, generate_blocks, generate_panel
from tiering.datasets.writer import register_frame, write_register, write_register_blocks

__all__ = [
    "PUBLISHED", "GeneratedBlocks", "GeneratedPanel", "calibration_report", "generate_blocks", "generate_panel",
    "register_frame", "write_register", "write_register_blocks",
]
