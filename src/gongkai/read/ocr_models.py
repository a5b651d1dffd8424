"""The OCR models: rapidocr's text detector, and its recogniser run directly on batches of crops.

The models are the ONNX files inside the rapidocr-onnxruntime wheel (nothing is fetched at run
time). Detection goes through rapidocr's own pre- and post-processing; recognition is run here,
so that a batch holds many small crops (cells of a table) and the decoder keeps, for every
character, the recogniser's next-best candidates and their probabilities: the identities of the
tables choose between them later, and a number cell is decoded with digits only.
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gongkai.errors import UnreadableError

REC_HEIGHT = 48  # the recogniser's input height
REC_MIN_WIDTH = 160  # narrower crops are padded to this (the model saw 320: a number alone reads surer with some padding)
BATCH_PIXELS = 48 * 320 * 48  # one batch's input area: ~48 cell crops, or a few long lines
MAX_BATCH = 64
CANDIDATES = 3  # alternatives kept per character
NUMBER_CHARS = "0123456789.-"
NUMBER_LOOKALIKES = set(NUMBER_CHARS) | set("oOlI|。，,:;'`DQSBZ")


@dataclass(frozen=True, slots=True)
class Reading:
    """What the recogniser read in one crop: the text, its weakest character's probability and,
    per character, the candidates best first as (character, probability)."""

    text: str
    confidence: float
    candidates: tuple[tuple[tuple[str, float], ...], ...] = ()


class Models:
    """The detector and the recogniser, loaded once per process."""

    def __init__(self, threads: int | None = None):
        try:
            import onnxruntime as ort
            from rapidocr_onnxruntime import RapidOCR
        except ImportError:
            raise UnreadableError("未安装 OCR 组件（pip install 'gongkai[ocr]'），无法识别扫描件") from None
        threads = threads or _threads()
        rapid = RapidOCR(use_cls=False, print_verbose=False, intra_op_num_threads=threads, inter_op_num_threads=1)
        self.detector = rapid.text_det
        options = ort.SessionOptions()
        options.log_severity_level = 4
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        model = Path(__import__("rapidocr_onnxruntime").__file__).parent / "models" / "ch_PP-OCRv4_rec_infer.onnx"
        self.session = ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
        characters = self.session.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.characters = ["", *characters, " "]  # index 0 is CTC's blank
        self.number_ids = np.array([0] + [self.characters.index(c) for c in NUMBER_CHARS], dtype=np.int64)
        self.input_name = self.session.get_inputs()[0].name

    def detect(self, rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
        """Axis-aligned boxes of the text lines found in an RGB image."""
        boxes, _ = self.detector(rgb)
        if boxes is None:
            return []
        return [(float(b[:, 0].min()), float(b[:, 1].min()), float(b[:, 0].max()), float(b[:, 1].max())) for b in boxes]

    def recognise(self, crops: list[np.ndarray], numbers: list[bool] | None = None) -> list[Reading]:
        """One reading per greyscale crop, in batches of similar widths; `numbers[i]` decodes crop i as a number."""
        numbers = numbers or [False] * len(crops)
        widths = [_resized_width(c) for c in crops]
        order = sorted(range(len(crops)), key=lambda i: widths[i])
        out: list[Reading | None] = [None] * len(crops)
        start = 0
        while start < len(order):
            width = max(REC_MIN_WIDTH, widths[order[start]])
            end = start + 1
            while end < len(order) and end - start < MAX_BATCH:
                wider = max(REC_MIN_WIDTH, widths[order[end]])
                if wider * REC_HEIGHT * (end - start + 1) > BATCH_PIXELS and end > start:
                    break
                width = wider
                end += 1
            batch = np.stack([_normalised(crops[i], width) for i in order[start:end]])
            probs = self.session.run(None, {self.input_name: batch})[0]
            for k, i in enumerate(order[start:end]):
                out[i] = self._decode(probs[k], numbers[i])
            start = end
        return out  # type: ignore[return-value]

    def _decode(self, probs: np.ndarray, number: bool) -> Reading:
        """Greedy CTC decoding with the next-best candidates of each character kept."""
        reading = self._greedy(probs, None)
        if number and reading.text and _looks_numeric(reading.text):
            return self._greedy(probs[:, self.number_ids], self.number_ids)
        return reading

    def _greedy(self, probs: np.ndarray, ids: np.ndarray | None) -> Reading:
        best = probs.argmax(axis=1)
        chars: list[str] = []
        scores: list[float] = []
        candidates: list[tuple[tuple[str, float], ...]] = []
        previous = 0
        for t, index in enumerate(best.tolist()):
            if index != 0 and index != previous:
                row = probs[t]
                top = np.argsort(row)[::-1][: CANDIDATES + 1]
                options = tuple((self._char(int(j), ids), float(row[j])) for j in top if j != 0)[:CANDIDATES]
                chars.append(self._char(index, ids))
                scores.append(float(row[index]))
                candidates.append(options)
            previous = index
        text = "".join(chars)
        return Reading(text, round(min(scores), 4) if scores else 0.0, tuple(candidates))

    def _char(self, index: int, ids: np.ndarray | None) -> str:
        return self.characters[int(ids[index]) if ids is not None else index]


def _looks_numeric(text: str) -> bool:
    """Digits, or what a digit is misread as ('o', 'l', '。'), and nothing that is surely a word."""
    text = text.replace(" ", "")
    return bool(text) and all(c in NUMBER_LOOKALIKES for c in text) and any(c.isdigit() for c in text)


def _resized_width(crop: np.ndarray) -> int:
    height, width = crop.shape[:2]
    return max(8, math.ceil(REC_HEIGHT * width / max(height, 1)))


def _normalised(crop: np.ndarray, width: int) -> np.ndarray:
    """A crop at the recogniser's height, scaled to [-1, 1], padded on the right to `width`."""
    from PIL import Image

    resized = min(width, _resized_width(crop))
    image = np.asarray(Image.fromarray(crop).resize((resized, REC_HEIGHT), Image.Resampling.BILINEAR), dtype=np.float32)
    out = np.zeros((3, REC_HEIGHT, width), dtype=np.float32)
    out[:, :, :resized] = (image / 255.0 - 0.5) / 0.5
    return out


def _threads() -> int:
    """Threads for one model run: the cores this process may use (a worker pool sets GONGKAI_OCR_THREADS)."""
    wanted = os.environ.get("GONGKAI_OCR_THREADS")
    if wanted and wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


_models: Models | None = None
_lock = threading.Lock()


def models() -> Models:
    """The models of this process, loaded on first use."""
    global _models
    with _lock:
        if _models is None:
            _models = Models()
        return _models


def loaded() -> bool:
    return _models is not None


def forget() -> None:
    """A forked child must not use the parent's sessions: onnxruntime's threads did not fork with it."""
    global _models, _lock
    _models, _lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=forget)
