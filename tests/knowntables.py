"""Tables whose clusters are known, for the tests of issue 16 (test_structure.py, test_explain_browser.py): six
named blobs, and fixtures/make_topics.py's text table."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("cat", "dog", "owl", "eel", "fox", "yak")
PER_BLOB = 100
N = PER_BLOB * len(NAMES)
HABITATS = ("land", "water", "air")


def topics_module():
    spec = importlib.util.spec_from_file_location("make_topics", ROOT / "fixtures" / "make_topics.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def named_blobs(seed: int = 0) -> pa.Table:
    """Six blobs on a circle in the first two of 8 dimensions (so PCA's map keeps them apart), each named, with a
    number ("weight", larger for later blobs) and a three-valued category ("habitat") to chart."""
    rng = np.random.default_rng(seed)
    k = np.repeat(np.arange(len(NAMES)), PER_BLOB)
    angle = 2 * np.pi * np.arange(len(NAMES)) / len(NAMES)
    centres = np.zeros((len(NAMES), 8))
    centres[:, 0], centres[:, 1] = 30 * np.cos(angle), 30 * np.sin(angle)
    X = (centres[k] + rng.normal(size=(N, 8))).astype(np.float32)
    return pa.table(
        {
            "animal": [NAMES[c] for c in k],
            "weight": np.round(k * 10 + rng.random(N) * 10, 3),
            "habitat": [HABITATS[(c + i) % 3] for i, c in enumerate(k)],
            "embedding": pa.array(list(X), type=pa.list_(pa.float32())),
        }
    )
