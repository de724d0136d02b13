"""Scale-out: a register classified in partitions of whole firms, one after another in this process or on a Dask
cluster, each partition by the application core (:func:`tiering.app.classify`) exactly as a whole register is,
and what needs every firm reduced from the parts.

    from tiering.scale import classify_partitioned
    run = classify_partitioned(Path("reg.parquet"), rulesets, 2025, on, Path("out/big"), partition_size=50_000)
    run.summary          # counts per rule set and outcome, over every partition
    run.files            # every part file written, with its SHA-256

The register is read piece by piece and cut into partitions as it is read (tiering.scale.buckets), never held
whole. Firms are independent once their years are together, so a partition (all years of some firms, chosen by a
hash of the 统一社会信用代码) gives the same rows as the whole register would for those firms; only the row order
of the outputs differs, and the reduced tables (counts, the ladder's counts) are sums.
"""

from tiering.scale.buckets import ReadOptions
from tiering.scale.partition import DEFAULT_PARTITION_SIZE, partition_of
from tiering.scale.run import PartitionedRun, classify_partitioned

__all__ = ["DEFAULT_PARTITION_SIZE", "PartitionedRun", "ReadOptions", "classify_partitioned", "partition_of"]
