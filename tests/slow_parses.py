"""Imported by a batch that a test kills (and preloaded into its pool workers): each parse writes
the file it starts on to $GONGKAI_TEST_PROGRESS, then takes 0.25 s longer.

The test kills the batch once it has seen a given number of parses start, so the kill lands
mid-run by the batch's own progress, however fast or busy the machine.
"""

from __future__ import annotations

import os
import time

import gongkai.pipeline

_parse = gongkai.pipeline.parse


def _noted_and_slowed(source, *, name=None):
    if name:
        with open(os.environ["GONGKAI_TEST_PROGRESS"], "a", encoding="utf-8") as progress:
            progress.write(f"{name}\n")
    time.sleep(0.25)
    return _parse(source, name=name)


gongkai.pipeline.parse = _noted_and_slowed
