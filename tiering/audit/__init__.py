"""The audit store: every classify run recorded, append-only and hash-chained, so any decision can be defended.

One SQLite file (WAL mode) holds the run records, the outcome of every firm × rule set, the exact text of every
rule set used and the analysts' overrides; each run's full per-criterion trace sits beside it as a Parquet file
named by the run id, whose SHA-256 is part of the chained record.

    from tiering.audit.store import record_run
    run_id = record_run("out/audit.sqlite", run, sys.argv)
"""
