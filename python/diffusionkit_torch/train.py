"""``python3 -m diffusionkit_torch.train``: the trainer's command line, launcher and exit codes.

One process (``--nproc-per-node 1``, the default), N local processes (``--nproc-per-node N``: this module spawns them
and forwards signals), N processes per node on several nodes (``--nnodes``, ``--node-rank``, ``--master-addr``), or any
number under ``torchrun`` (detected from its environment). Exit codes follow the .NET CLI: 0 done, 1 failure, 2 usage,
3 invalid data, 4 input/output, 130 Ctrl+C, 143 SIGTERM (a checkpoint of the last finished step is saved first; a
second signal ends the run at once).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from typing import Callable, Sequence

import torch
import torch.multiprocessing as mp

from . import checkpoint, distributed, safetensors_io, training_state
from .settings import Settings, build_parser, resolve
from .trainer import Interrupted, StopFlag, TrainingResult, train

EXIT_FAILURE, EXIT_USAGE, EXIT_INVALID_DATA, EXIT_IO = 1, 2, 3, 4
SIGNAL_CODES = {signal.SIGINT: 130, signal.SIGTERM: 143}


def exit_code_for(error: BaseException) -> int:
    """The .NET CLI's exit code for an error: invalid files 3, bad options or arguments 2, I/O 4, anything else 1."""
    if isinstance(error, (training_state.TrainingStateError, checkpoint.CheckpointError, safetensors_io.SafeTensorsError)):
        return EXIT_INVALID_DATA
    if isinstance(error, ValueError):
        return EXIT_USAGE
    if isinstance(error, OSError):
        return EXIT_IO
    return EXIT_FAILURE


def install_signal_handlers(stop: StopFlag) -> None:
    """First SIGINT/SIGTERM: finish the step, save, exit 130/143. Second: exit at once."""
    def handle(signum: int, _frame) -> None:
        code = SIGNAL_CODES[signal.Signals(signum)]
        if stop.code:
            os._exit(code)
        stop.code = code

    for signum in SIGNAL_CODES:
        signal.signal(signum, handle)


def run_worker(argv: Sequence[str], stop: StopFlag) -> int:
    """One rank's whole run: settings, process group, training; returns the exit code."""
    args = build_parser().parse_args(argv)
    log_stream = sys.stderr if args.log_to_stderr else sys.stdout
    context = None
    try:
        context = distributed.initialise(args.device)
        log: Callable[[str], None] = (lambda m: print(m, file=log_stream, flush=True)) if context.is_main else (lambda m: None)
        settings = resolve(args)
        threads = settings.threads or max(1, (os.cpu_count() or 1) // context.local_world_size)
        torch.set_num_threads(threads)
        log(settings.describe())
        log(f"processes: {context.world_size} ({'DDP, ' if context.distributed else ''}{context.device}), {threads} threads each")
        result = train(settings, context, stop, log)
        log(_summary(settings, result))
        return 0
    except Interrupted as stopped:
        if context is not None and context.is_main:
            print("Interrupted: saved a checkpoint of the last finished step." if stopped.saved
                  else "Interrupted before a new step finished: no new checkpoint.", file=log_stream, flush=True)
        return stopped.code
    except (ValueError, OSError, RuntimeError) as error:  # UsageError is a ValueError, Diverged a RuntimeError
        prefix = f"[rank {context.rank}] " if context is not None and context.distributed else ""
        print(f"{prefix}error: {' '.join(str(error).split())}", file=sys.stderr, flush=True)
        return exit_code_for(error)
    finally:
        if context is not None:
            distributed.shutdown(context)


def _summary(settings: Settings, result: TrainingResult) -> str:
    where = f"; checkpoint {result.last_checkpoint}" if result.last_checkpoint else ""
    return (f"done: step {result.steps} loss {result.average_loss:.4f}, {result.images_per_second:.0f} img/s, "
            f"{result.steps_per_second:.2f} steps/s, {result.elapsed_seconds / 60:.1f} min{where} (output {os.path.abspath(settings.output)})")


def _spawned(local_rank: int, argv: list[str], node_rank: int, nproc: int, world_size: int, parent_pid: int) -> None:
    """Entry of a spawned worker: torchrun's environment, its own process group for signals, then the run."""
    os.setpgrp()  # Terminal signals reach the launcher only; it forwards them once.
    os.environ.update({"RANK": str(node_rank * nproc + local_rank), "LOCAL_RANK": str(local_rank),
                       "WORLD_SIZE": str(world_size), "LOCAL_WORLD_SIZE": str(nproc)})
    stop = StopFlag(parent_pid)
    install_signal_handlers(stop)
    code = run_worker(argv, stop)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def launch(argv: Sequence[str], args: argparse.Namespace) -> int:
    """Starts ``--nproc-per-node`` workers (spawn), forwards SIGINT/SIGTERM to them, returns the run's exit code."""
    nproc, nnodes = args.nproc_per_node, args.nnodes
    if nproc < 1 or nnodes < 1 or not 0 <= args.node_rank < nnodes:
        print("error: --nproc-per-node and --nnodes must be at least 1 and 0 <= --node-rank < --nnodes.", file=sys.stderr)
        return EXIT_USAGE
    os.environ["MASTER_ADDR"] = args.master_addr or os.environ.get("MASTER_ADDR", "127.0.0.1")
    if args.master_port is not None:
        os.environ["MASTER_PORT"] = str(args.master_port)
    elif "MASTER_PORT" not in os.environ:
        if nnodes > 1:
            print("error: with --nnodes > 1 give --master-port (the same on every node).", file=sys.stderr)
            return EXIT_USAGE
        os.environ["MASTER_PORT"] = str(distributed.free_port())
    context = mp.start_processes(_spawned, args=(list(argv), args.node_rank, nproc, nproc * nnodes, os.getpid()),
                                 nprocs=nproc, join=False, start_method="spawn")
    received: list[int] = []

    def forward(signum: int, _frame) -> None:
        received.append(signum)
        for process in context.processes:
            if process.is_alive():
                os.kill(process.pid, signal.SIGKILL if len(received) > 1 else signum)

    for signum in SIGNAL_CODES:
        signal.signal(signum, forward)
    try:
        while not context.join(timeout=0.5):
            pass
        return 0
    except mp.ProcessExitedException as failed:
        _stop_all(context)
        if len(received) > 1:
            return SIGNAL_CODES[signal.Signals(received[0])]
        return failed.exit_code if failed.exit_code and failed.exit_code > 0 else EXIT_FAILURE
    except mp.ProcessRaisedException as failed:
        _stop_all(context)
        print(f"error: a worker failed: {failed}", file=sys.stderr)
        return EXIT_FAILURE


def _stop_all(context) -> None:
    """Ends the workers still running (a failed rank leaves the others waiting in a collective)."""
    deadline = time.monotonic() + 10
    for process in context.processes:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join()


def main(argv: Sequence[str] | None = None) -> int:
    """Parses the options; runs in this process, under torchrun, or launches the local workers."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if distributed.under_launcher() or (args.nproc_per_node == 1 and args.nnodes == 1):
        stop = StopFlag()
        install_signal_handlers(stop)
        return run_worker(argv, stop)
    return launch(argv, args)


if __name__ == "__main__":
    sys.exit(main())
