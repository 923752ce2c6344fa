"""Where veille writes (the database, the digest archive, the map): a path that cannot be used
is one line naming it and what to fix (`PathUnusable`), never a traceback."""

from __future__ import annotations

import os
from pathlib import Path


class PathUnusable(Exception):
    """An output path cannot be used; the message is one line naming the path and what to fix."""


def writable_folder(folder: Path, option: str) -> Path:
    """`folder`, created if needed; PathUnusable when it cannot be created or written.
    `option` names what the user sets to choose another path (e.g. "--db")."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise PathUnusable(f"{_file_in_the_way(folder)} is a file, not a folder: choose another {option} path") from exc
    except PermissionError as exc:
        raise PathUnusable(f"cannot create the folder {folder}: permission denied (choose another {option} path)") from exc
    except OSError as exc:
        raise PathUnusable(f"cannot create the folder {folder}: {exc.strerror or exc} (choose another {option} path)") from exc
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PathUnusable(f"the folder {folder} is not writable: choose another {option} path or fix its permissions")
    return folder


def not_a_folder(path: Path, option: str) -> Path:
    """`path` itself, unless a folder stands where a file is to be written."""
    if Path(path).is_dir():
        raise PathUnusable(f"{path} is a folder, not a file: choose another {option} path")
    return Path(path)


def _file_in_the_way(folder: Path) -> Path:
    """The first ancestor of `folder` (or itself) that exists as something other than a folder."""
    for candidate in reversed((folder, *folder.parents)):
        if candidate.exists() and not candidate.is_dir():
            return candidate
    return folder
