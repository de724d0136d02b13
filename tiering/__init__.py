"""tiering: classify technology enterprises into the tiers of Chinese S&T cultivation programs, explain every decision."""

__version__ = "0.1.0"
