"""Imports every command module so that each attaches its commands to the ``main`` group."""

from __future__ import annotations
