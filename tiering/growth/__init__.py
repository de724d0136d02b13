"""Growth-propensity score: labels, features, the points scorecard, its challenger, validation and card.

The score only orders firms the rules found eligible; it never excludes a firm on its own.

Import the submodules themselves (``tiering.growth.card``, ``tiering.growth.features`` …): this package imports
none of them, so reading the feature catalogue for a selection policy does not load scikit-learn.
"""
