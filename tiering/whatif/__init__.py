"""What-if: how a different rule version (adopted or draft) would change the outcomes of real firms."""
