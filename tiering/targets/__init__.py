"""Plan targets: the numeric goals of district plans, and how a register measures up against them."""

from tiering.targets.plan import Plan, PlanError, Target, load_plan
from tiering.targets.track import TargetTracking, track_plan

__all__ = ["Plan", "PlanError", "Target", "TargetTracking", "load_plan", "track_plan"]
