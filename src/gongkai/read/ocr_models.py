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
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
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
NUMBER_LOOKALIKES = set(NUMBER_CHARS) | set("oOlI|。，,:;'`DQSBZ()")  # () : a digit a seal's stroke cut in two
MAX_STREAMS = 4  # model runs at once (pages or batches in parallel); more cores go to each run


@dataclass(frozen=True, slots=True)
class Reading:
    """What the recogniser read in one crop: the text, its weakest character's probability and,
    per character, the candidates best first as (character, probability)."""

    text: str
    confidence: float
    candidates: tuple[tuple[tuple[str, float], ...], ...] = ()


class Models:
    """The detector and the recogniser, loaded once per process, run by OpenVINO where it is installed
    (the same ONNX files, several times faster on the CPUs measured) and by onnxruntime otherwise.

    With two cores or more, `streams` model runs go at once (each on its part of the `threads`):
    the batches of one page, or the pages read in parallel, share them."""

    def __init__(self, threads: int | None = None, backend: str | None = None, streams: int | None = None):
        try:
            import onnxruntime as ort
            from rapidocr_onnxruntime.ch_ppocr_det.utils import DBPostProcess, DetPreProcess
        except ImportError:
            raise UnreadableError("未安装 OCR 组件（pip install 'gongkai[ocr]'），无法识别扫描件") from None
        threads = threads or _threads()
        self.streams = streams or streams_for(threads)
        folder = Path(__import__("rapidocr_onnxruntime").__file__).parent / "models"
        recogniser, detector = folder / "ch_PP-OCRv4_rec_infer.onnx", folder / "ch_PP-OCRv4_det_infer.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # only its metadata is read
        meta = ort.InferenceSession(str(recogniser), options, providers=["CPUExecutionProvider"]).get_modelmeta()
        self.characters = ["", *meta.custom_metadata_map["character"].splitlines(), " "]  # index 0 is CTC's blank
        self.number_ids = np.array([0] + [self.characters.index(c) for c in NUMBER_CHARS], dtype=np.int64)
        self.backend = backend or os.environ.get("GONGKAI_OCR_BACKEND") or ("openvino" if _has_openvino() else "onnxruntime")
        run = _openvino if self.backend == "openvino" else _onnxruntime
        self._recognise, self._detect = run(recogniser, threads, self.streams), run(detector, threads, self.streams)
        self._runs = ThreadPoolExecutor(self.streams, thread_name_prefix="gongkai-ocr") if self.streams > 1 else None
        # rapidocr's own detection settings (its config.yaml); the pre- and post-processing are its code
        self._det_pre = DetPreProcess(736, "min", [0.5, 0.5, 0.5], [0.5, 0.5, 0.5])
        self._det_post = DBPostProcess(
            thresh=0.3, box_thresh=0.5, max_candidates=1000, unclip_ratio=1.6, use_dilation=True, score_mode="fast"
        )

    def detect(self, rgb: np.ndarray) -> list[tuple[float, float, float, float]]:
        """Axis-aligned boxes of the text lines found in an RGB image."""
        height, width = rgb.shape[:2]
        prepared = self._det_pre(rgb)
        if prepared is None:
            return []
        boxes, _ = self._det_post(self._detect(prepared), (height, width))
        out = []
        for box in boxes:
            x0, y0 = max(0.0, float(box[:, 0].min())), max(0.0, float(box[:, 1].min()))
            x1, y1 = min(width - 1.0, float(box[:, 0].max())), min(height - 1.0, float(box[:, 1].max()))
            if x1 - x0 > 3 and y1 - y0 > 3:
                out.append((x0, y0, x1, y1))
        return out

    def recognise(self, crops: list[np.ndarray], numbers: list[bool] | None = None,
                  done: Callable[[float], None] | None = None) -> list[Reading]:  # fmt: skip
        """One reading per greyscale crop, in batches of similar widths; `numbers[i]` decodes crop i as a number;
        `done` hears the share of the crops read after each batch."""
        numbers = numbers or [False] * len(crops)
        widths = [_resized_width(c) for c in crops]
        order = sorted(range(len(crops)), key=lambda i: widths[i])
        batches: list[tuple[list[int], int]] = []  # crops of each batch, and its padded width
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
            batches.append((order[start:end], width))
            start = end

        def run(batch: tuple[list[int], int]) -> list[Reading]:
            members, width = batch
            probs = self._recognise(np.stack([_normalised(crops[i], width) for i in members]))
            return [self._decode(probs[k], numbers[i]) for k, i in enumerate(members)]

        out: list[Reading | None] = [None] * len(crops)
        results = self._runs.map(run, batches) if self._runs is not None and len(batches) > 1 else map(run, batches)
        read = 0
        for (members, _), readings in zip(batches, results):
            for i, reading in zip(members, readings):
                out[i] = reading
            read += len(members)
            if done is not None:
                done(read / len(crops))
        return out  # type: ignore[return-value]

    def _decode(self, probs: np.ndarray, number: bool) -> Reading:
        """Greedy CTC decoding with the next-best candidates of each character kept."""
        reading = self._greedy(probs, None)
        if number and reading.text and _looks_numeric(reading.text):
            return _without_end_dots(self._greedy(probs[:, self.number_ids], self.number_ids))
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


def _has_openvino() -> bool:
    import importlib.util

    return importlib.util.find_spec("openvino") is not None


def _openvino(model: Path, threads: int, streams: int = 1):
    """An ONNX model compiled by OpenVINO for this CPU (kept in a cache folder for the next process):
    a function from input batch to first output, safe to call from `streams` threads at once."""
    import openvino

    core = openvino.Core()
    cache = _cache_folder()
    if cache is not None:
        core.set_property({"CACHE_DIR": str(cache)})
    settings = {"INFERENCE_NUM_THREADS": threads}
    settings.update({"NUM_STREAMS": streams} if streams > 1 else {"PERFORMANCE_HINT": "LATENCY"})
    compiled = core.compile_model(str(model), "CPU", settings)
    output = compiled.output(0)
    requests = threading.local()  # an infer request runs one batch at a time: one per thread

    def infer(batch: np.ndarray) -> np.ndarray:
        request = getattr(requests, "request", None)
        if request is None:
            request = requests.request = compiled.create_infer_request()
        return request.infer({0: batch})[output].copy()

    return infer


def _onnxruntime(model: Path, threads: int, streams: int = 1):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.intra_op_num_threads = max(1, threads // streams)  # a session runs calls from several threads at once
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # a busy machine: never spin
    session = ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return lambda batch: session.run(None, {name: batch})[0]


def _cache_folder() -> Path | None:
    """Where compiled models are kept between processes ($GONGKAI_CACHE, else ~/.cache/gongkai), if writable."""
    root = os.environ.get("GONGKAI_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "gongkai")
    folder = Path(root) / "openvino"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def _without_end_dots(reading: Reading) -> Reading:
    """A dot before or after a number is a speck (a decimal point stands between digits)."""
    text, candidates = reading.text, list(reading.candidates)
    while text[:1] == "." or text[-1:] == ".":
        if text[:1] == ".":
            text, candidates = text[1:], candidates[1:]
        else:
            text, candidates = text[:-1], candidates[:-1]
    if text == reading.text:
        return reading
    confidence = min((c[0][1] for c in candidates if c), default=0.0)
    return Reading(text, round(confidence, 4), tuple(candidates))


def _looks_numeric(text: str) -> bool:
    """Digits, or what a digit is misread as ('o', 'l', '。'), and nothing that is surely a word; or one or
    two odd signs and no CJK ('U', 'θ': a digit spoilt by a seal's stroke or a smudge)."""
    text = text.replace(" ", "")
    if not text:
        return False
    if all(c in NUMBER_LOOKALIKES for c in text) and any(c.isdigit() for c in text):
        return True
    return len(text) <= 2 and all(ord(c) < 0x2E80 and not c.isdigit() for c in text)


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


def streams_for(threads: int) -> int:
    """Model runs at once for a process allowed `threads` cores: one per core, up to MAX_STREAMS
    ($GONGKAI_OCR_STREAMS sets it: 1 reads one page, one batch at a time, on all its threads)."""
    wanted = os.environ.get("GONGKAI_OCR_STREAMS")
    if wanted and wanted.isdigit() and int(wanted) > 0:
        return min(int(wanted), threads)
    return max(1, min(threads, MAX_STREAMS))


def streams() -> int:
    """Model runs this process may have at once (1 when a batch gives each worker one core)."""
    return _models.streams if _models is not None else streams_for(_threads())


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


_forked_away: list[Models] = []  # in a forked child: the parent's models, kept so they are never destroyed


def forget() -> None:
    """A forked child must not use the parent's sessions: their threads did not fork with it. Nor may it
    destroy them: their destructors would wait on those threads (a segfault in the child). They are kept,
    unused, until the child exits."""
    global _models, _lock
    if _models is not None:
        _forked_away.append(_models)
    _models, _lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=forget)
