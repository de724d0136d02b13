"""Render every kind of output the tool writes to PNG pages, so a person can look at them as they would print.

Usage (Debian packages: `apt-get update && apt-get install -y libreoffice-calc poppler-utils chromium`):
    .venv/bin/python scripts/render_outputs.py out/render            # runs the tour's commands, then renders
    .venv/bin/python scripts/render_outputs.py out/render --pages 2  # at most 2 pages per file

The commands of the README tour write their outputs under OUT/files (classify on the sample, a rule diff, select
and report on the generated panel with PDF briefs, plan targets, watch alerts); then every workbook is converted
to PDF by LibreOffice (headless), every HTML page printed to PDF by headless Chromium (A4, as a browser prints it),
and every PDF — those and the tool's own briefs — cut into PNG pages by pdftoppm under OUT/png. Workbook sheets are
cut to their first --rows rows first (a trace sheet would print thousands of pages). The page counts
are printed, so a firm page that runs past two A4 pages or a brief past one shows at once.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = "datasets/sample_register.xlsx"
PANEL = "datasets/generated/panel_s42.csv"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--no-first-run", "--disable-component-update", "--disable-sync", "--no-pdf-header-footer"]


def _tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if not found:
        sys.exit(f"{name} not found: run `apt-get update && apt-get install -y {package}`")
    return found


def _tiering(*args: str) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:  # 1: rows refused, as in the tour
        sys.exit(f"tiering {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")


def make_outputs(files: Path) -> None:
    """Run the tour's commands that write files people open."""
    store = str(files / "audit.sqlite")
    _tiering("classify", SAMPLE, "--year", "2025", "--out", str(files / "classify"), "--store", store)
    _tiering("classify", "datasets/sample_register_with_errors.xlsx", "--year", "2025", "--out",
             str(files / "classify-errors"), "--no-audit")
    _tiering("rules", "diff", "--old", "kjxzxqy-2017", "--new", "kjxzxqy-2022", SAMPLE, "--year", "2025", "--out",
             str(files / "diff.xlsx"))
    _tiering("select", PANEL, "--year", "2025", "--out", str(files / "select"), "--store", store)
    _tiering("targets", PANEL, "--plan", "rules/plans/baotou-xjr-2015.yaml", "--out", str(files / "targets.xlsx"))
    _tiering("report", PANEL, "--year", "2025", "--out", str(files / "report"), "--plan",
             "rules/plans/dongli-kjxzxqy-2011.yaml", "--firm", "91120110292998668L", "--briefs")
    _tiering("watch", "datasets/events/sample_events.jsonl", "--register", SAMPLE, "--state", str(files / "watch"),
             "--clock", "2025-12-01")
    _tiering("watch", "--summary", "--state", str(files / "watch"), "--xlsx", str(files / "alerts.xlsx"))


def preview_copy(book: Path, folder: Path, rows: int) -> Path:
    """A copy of ``book`` whose sheets keep only their first ``rows`` data rows (a trace sheet runs to thousands
    of printed pages; its first pages show everything a reader checks), styles and formats untouched."""
    from openpyxl import load_workbook

    wb = load_workbook(book)
    for ws in wb.worksheets:
        if ws.max_row > rows + 1:
            ws.delete_rows(rows + 2, ws.max_row - rows - 1)
            if ws.auto_filter.ref:
                ws.auto_filter.ref = f"A1:{ws.cell(row=rows + 1, column=ws.max_column).coordinate}"
    target = folder / book.name
    wb.save(target)
    return target


def to_pdf(files: Path, pdf_dir: Path, rows: int) -> list[Path]:
    """Every workbook (LibreOffice; sheets cut to ``rows`` rows) and HTML page (Chromium, A4) as PDF in
    ``pdf_dir``; plus the tool's own PDFs."""
    pdf_dir.mkdir(parents=True, exist_ok=True)
    soffice = _tool("libreoffice", "libreoffice-calc")
    browser = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None) or \
        _tool("chromium", "chromium")
    made = []
    for book in sorted(files.rglob("*.xlsx")):
        name = "_".join(book.relative_to(files).with_suffix("").parts) + "_xlsx"
        with tempfile.TemporaryDirectory() as tmp:
            preview = preview_copy(book, Path(tmp), rows)
            subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", tmp, str(preview)],
                           capture_output=True, check=True, timeout=600)
            target = pdf_dir / f"{name}.pdf"
            shutil.move(str(Path(tmp) / f"{book.stem}.pdf"), target)
            made.append(target)
    for page in sorted(files.rglob("*.html")):
        target = pdf_dir / ("_".join(page.relative_to(files).with_suffix("").parts) + "_html.pdf")
        with tempfile.TemporaryDirectory() as profile:
            subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={target}",
                            page.resolve().as_uri()], capture_output=True, check=True, timeout=300)
        made.append(target)
    for own in sorted(files.rglob("*.pdf")):
        target = pdf_dir / ("_".join(own.relative_to(files).with_suffix("").parts) + ".pdf")
        shutil.copy(own, target)
        made.append(target)
    return made


def page_count(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def to_png(pdfs: list[Path], png_dir: Path, pages: int, dpi: int) -> None:
    """The first ``pages`` pages of every PDF as PNG; print each file's page count."""
    png_dir.mkdir(parents=True, exist_ok=True)
    pdftoppm = _tool("pdftoppm", "poppler-utils")
    for pdf in pdfs:
        subprocess.run([pdftoppm, "-r", str(dpi), "-l", str(pages), "-png", str(pdf), str(png_dir / pdf.stem)],
                       check=True)
        print(f"{page_count(pdf):4d} page(s)  {pdf.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--pages", type=int, default=3, help="PNG pages per file (default 3)")
    parser.add_argument("--dpi", type=int, default=60)
    parser.add_argument("--rows", type=int, default=60, help="Data rows kept per sheet when printing workbooks")
    parser.add_argument("--keep", action="store_true", help="Render the files already in OUT/files")
    args = parser.parse_args()
    files = args.out / "files"
    if not args.keep:
        shutil.rmtree(files, ignore_errors=True)
        make_outputs(files)
    to_png(to_pdf(files, args.out / "pdf", args.rows), args.out / "png", args.pages, args.dpi)
    print(f"PNG pages in {args.out / 'png'}")


if __name__ == "__main__":
    main()
