"""tiering: classify technology enterprises into Chinese S&T cultivation tiers and explain every decision."""

__version__ = "0.1.0"
