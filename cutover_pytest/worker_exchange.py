"""What travels between the controller of a gate run and its pytest-xdist workers, and how.

To a worker, at its start (``workerinput``): the validated target, the run's identity and directories, the
active waivers, the classes that existed before the first probe and where the controller leaves the run's plan of
DB-01's counts and DB-02's units (:class:`WorkerStart`, pickled: it holds the frozen target model). From a
worker: what it collected and deselected, in a file of the run's scratch directory written before the
controller schedules checks (:func:`collected_path`), and at its end the MongoDB commands it sent
(``workeroutput``; commands sent while it closes its clients are not counted).
"""
from __future__ import annotations

import base64
import pickle
from dataclasses import dataclass
from pathlib import Path

from cutover.model import Target
from cutover.run.waivers import Waiver

RUN = "cutover_run"                  # workerinput: the WorkerStart
COMMANDS = "cutover_mongo_commands"  # workeroutput: the worker's CommandLog facts


@dataclass(frozen=True)
class WorkerStart:
    target: Target
    run_id: str
    run_dir: Path
    started: str
    scratch: Path
    waivers: tuple[Waiver, ...]
    baseline: frozenset[str] | None    # classes before the first probe (None: each probe run asks itself)
    plan_file: Path | None = None      # where the controller leaves its plan (None: the worker plans itself)

    def pack(self) -> str:
        return base64.b64encode(pickle.dumps(self)).decode()

    @staticmethod
    def unpack(text: str) -> WorkerStart:
        given = pickle.loads(base64.b64decode(text))
        assert isinstance(given, WorkerStart)
        return given


def collected_path(scratch: Path, worker_id: str) -> Path:
    return scratch / f"collected-{worker_id}.json"
