"""Measurements of the pre-trained tuner; the held-out comparison itself is the
``heldout`` suite of ``hpo bench``."""
