"""Measurements of the pre-trained tuner (issue 8); the held-out comparison itself is the
``heldout`` suite of ``hpo bench``."""
