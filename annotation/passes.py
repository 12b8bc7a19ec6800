"""The three coding passes (paper appendix E), in coding order: the one home of their names.

Every app reads the pass list from here (views, API, scoring's tables, figures and chance
baselines). The engine has no notion of passes: a pass is a coder's view of a cluster sample.
"""
from django.db import models


class Pass(models.TextChoices):
    """The three coding passes, in the order of appendix E."""
    TEXT = "text", "Text only"
    IMAGE = "image", "Image only"
    JOINT = "joint", "Text and image (joint)"


PASS_ORDER = [Pass.TEXT, Pass.IMAGE, Pass.JOINT]
PASS_VALUES = [p.value for p in PASS_ORDER]
# Position in coding order; also part of the chance-baseline seed (scoring.services.consistency),
# so these numbers must never change.
PASS_INDEX = {p: i for i, p in enumerate(PASS_VALUES)}
# What a coder sees in each pass.
SHOWS_TEXT = frozenset({Pass.TEXT.value, Pass.JOINT.value})
SHOWS_IMAGE = frozenset({Pass.IMAGE.value, Pass.JOINT.value})
