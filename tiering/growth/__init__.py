"""Growth-propensity score: labels, features, the points scorecard, its challenger, validation and card.

The score only orders firms the rules found eligible; it never excludes a firm on its own.
"""

from tiering.growth.card import ModelCard, build_card, load_card, save_card
from tiering.growth.challenger import GrowthChallenger
from tiering.growth.features import FEATURES, FeatureSet, build_features
from tiering.growth.labels import LabelSpec, growth_label
from tiering.growth.scorecard import FeatureMismatchError, Scorecard
from tiering.growth.validation import OutOfTime, out_of_time

__all__ = [
    "FEATURES", "FeatureMismatchError", "FeatureSet", "GrowthChallenger", "LabelSpec", "ModelCard",
    "OutOfTime", "Scorecard", "build_card", "build_features", "growth_label", "load_card", "out_of_time",
    "save_card",
]
