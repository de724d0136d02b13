"""Reports for the bureau: a formatted Excel workbook, a self-contained HTML report with charts, per-firm pages."""
