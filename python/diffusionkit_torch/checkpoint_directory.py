"""The training output folder (.NET's ``CheckpointDirectory``): ``step-NNNNNNN/`` checkpoints and a ``latest`` file.

Publishing: every file is written into a hidden ``.tmp-step-...`` folder and fsynced; the folder is renamed to
``step-NNNNNNN`` (one atomic rename, so a ``step-*`` folder is always complete); ``latest`` is replaced atomically
(temporary file, fsync, rename); checkpoints beyond the newest ``keep`` are renamed to a hidden name, then deleted.
Readers take a folder with its own ``config.json`` as a checkpoint, else the one ``latest`` names, else the
highest-numbered ``step-*`` folder.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from typing import Callable

LATEST = "latest"
_STEP = re.compile(r"step-([0-9]{1,9})")
_HIDDEN = ".tmp-"


def step_folder_name(step: int) -> str:
    """``step-0000100`` for step 100."""
    if step < 0:
        raise ValueError("step must not be negative.")
    return f"step-{step:07d}"


def step_folders(root: str) -> list[tuple[int, str]]:
    """The published checkpoints of ``root``, oldest step first."""
    if not os.path.isdir(root):
        return []
    found = []
    for name in os.listdir(root):
        match = _STEP.fullmatch(name)
        if match and os.path.isdir(os.path.join(root, name)):
            found.append((int(match.group(1)), os.path.join(root, name)))
    return sorted(found)


def resolve(path: str) -> str:
    """The checkpoint folder ``path`` stands for (itself, the one ``latest`` names, or the newest ``step-*``)."""
    if os.path.isfile(os.path.join(path, "config.json")) or not os.path.isdir(path):
        return path
    latest = os.path.join(path, LATEST)
    if os.path.isfile(latest):
        try:
            with open(latest, "rb") as stream:
                named = stream.read(64).decode("utf-8", errors="replace").strip()
        except OSError:
            named = ""
        candidate = os.path.join(path, named)
        if _STEP.fullmatch(named) and os.path.isfile(os.path.join(candidate, "config.json")):
            return candidate
    folders = step_folders(path)
    return folders[-1][1] if folders else path


def clean_leftovers(root: str) -> int:
    """Removes hidden leftovers of interrupted writes (``.tmp-*`` folders, ``.latest.*.tmp`` files); returns how many."""
    if not os.path.isdir(root):
        return 0
    removed = 0
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if name.startswith(_HIDDEN) and os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
        elif name.startswith(f".{LATEST}.") and name.endswith(".tmp") and os.path.isfile(path):
            os.remove(path)
            removed += 1
    return removed


def _fsync_file(path: str) -> None:
    with open(path, "rb+") as stream:
        os.fsync(stream.fileno())


def _write_latest(root: str, name: str) -> None:
    temporary = os.path.join(root, f".{LATEST}.{uuid.uuid4().hex[:8]}.tmp")
    with open(temporary, "xb") as stream:
        stream.write((name + "\n").encode("utf-8"))
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, os.path.join(root, LATEST))


def _prune(root: str, keep: int, current: str) -> None:
    folders = step_folders(root)
    for _, path in folders[:max(0, len(folders) - keep)]:
        if os.path.basename(path) == current:
            continue
        hidden = os.path.join(root, f"{_HIDDEN}delete-{os.path.basename(path)}-{uuid.uuid4().hex[:8]}")
        try:
            os.rename(path, hidden)
        except OSError:
            continue
        shutil.rmtree(hidden, ignore_errors=True)


def publish(root: str, step: int, write: Callable[[str], None], keep: int) -> str:
    """Writes one checkpoint with ``write(folder)`` into ``root`` and makes it current, atomically; returns its folder."""
    if keep < 1:
        raise ValueError("keep must be at least 1 (the checkpoint just written).")
    os.makedirs(root, exist_ok=True)
    name = step_folder_name(step)
    temporary = os.path.join(root, f"{_HIDDEN}{name}-{uuid.uuid4().hex[:8]}")
    target = os.path.join(root, name)
    os.makedirs(temporary)
    try:
        write(temporary)
        for entry in os.listdir(temporary):
            path = os.path.join(temporary, entry)
            if os.path.isfile(path):
                _fsync_file(path)
        if os.path.isdir(target):
            # The same step written again (a resumed run stopped before its first new step): move the old one away first.
            old = os.path.join(root, f"{_HIDDEN}old-{name}-{uuid.uuid4().hex[:8]}")
            os.rename(target, old)
            os.rename(temporary, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(temporary, target)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    _write_latest(root, name)
    _prune(root, keep, name)
    return target
