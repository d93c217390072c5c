"""Models that differ only by seed, trained side by side: one worker process per core, each on one torch thread.

A batch of 64 images does not fill two cores: one model on two threads runs its step well under twice as fast
as on one, while two models on one thread each run nearly as fast as either alone (docs/speed.md measures
both). So a group's models train in worker processes of one thread each, an epoch at a time: each free worker
takes the next epoch of the model furthest behind, so that three seeds on two cores keep both busy to the end.

An epoch is a function of the model's :class:`vae.train.Run` and the data, computed on one thread by the same
compiled code in any worker, and a model draws all its noise from its own generator: its results are the same,
bit for bit, whatever it was trained beside and whichever worker ran which of its epochs.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import replace

import torch

from vae.model import ModelConfig
from vae.progress import progress
from vae.train import Run, Trainer, TrainConfig, TrainResult, deterministic_torch, fit, log_epoch, result, start

# One thread per model: a model's arithmetic then never depends on how many cores the machine has.
THREADS_PER_MODEL = 1

# A worker's data and Trainers, set up once per worker process.
_data: dict[str, torch.Tensor] = {}
_trainers: dict[tuple[ModelConfig, TrainConfig], Trainer] = {}


def _start_worker(x_train: torch.Tensor, x_val: torch.Tensor) -> None:
    torch.set_num_threads(THREADS_PER_MODEL)
    deterministic_torch()
    _data.update(train=x_train, val=x_val)


def _epoch(model_config: ModelConfig, config: TrainConfig, run: Run) -> Run:
    # Keyed without the seed: the seeds of a group share one Trainer, and with it one compiled step.
    key = (model_config, replace(config, seed=0))
    if key not in _trainers:
        _trainers[key] = Trainer(model_config, key[1], _data["train"].device)
    return _trainers[key].epoch(run, _data["train"], _data["val"])


def workers_for(models: int) -> int:
    """As many workers as the cores this process may use, but no more than models."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(models, cores))


def fit_group(model_config: ModelConfig, configs: Sequence[TrainConfig], x_train: torch.Tensor, x_val: torch.Tensor,
              workers: int) -> list[TrainResult]:
    """Train one model per config (configs differ only by seed) in ``workers`` processes of one thread each;
    return their results in the order of ``configs``. On a GPU, which one model keeps busy, they train one after
    another in this process instead."""
    if len({replace(c, seed=0) for c in configs}) != 1:
        raise ValueError("a group's models differ only by seed: its configs must agree on every other setting")
    if x_train.device.type != "cpu":
        return [fit(model_config, x_train, x_val, config) for config in configs]
    runs = [start(model_config, config) for config in configs]
    bar = progress(total=sum(c.epochs for c in configs), desc=f"train d={model_config.latent_dim}, "
                   f"{len(configs)} seed{'s' * (len(configs) > 1)}", unit="epoch")
    in_flight: dict[Future[Run], int] = {}
    # spawn, not fork: a forked child of a process whose OpenMP pool has run can hang in its first parallel region.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_start_worker,
                             initargs=(x_train, x_val)) as pool:
        def submit_next() -> None:
            waiting = [i for i, run in enumerate(runs)
                       if i not in in_flight.values() and len(run.history) < configs[i].epochs]
            if waiting:
                i = min(waiting, key=lambda i: len(runs[i].history))  # the model furthest behind, the first on ties
                in_flight[pool.submit(_epoch, model_config, configs[i], runs[i])] = i

        for _ in range(workers):
            submit_next()
        while in_flight:
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                i = in_flight.pop(future)
                runs[i] = future.result()
                log_epoch(model_config, configs[i], runs[i].history[-1])
                bar.update(1)
                submit_next()
    bar.close()
    return [result(model_config, run, x_train.device) for run in runs]
