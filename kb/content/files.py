"""Which files under content/ may be read: regular files inside the folder, never symbolic
links (which could point outside it) or special files (a FIFO would block a reader forever)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

NOT_REGULAR = "only regular files inside content/ are read"


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "not a regular file"


def _refusal(path: Path, mode: int) -> str:
    if stat.S_ISLNK(mode):
        try:
            target = f" to {os.readlink(path)}"
        except OSError:
            target = ""
        return f"skipped: it is a symbolic link{target}; {NOT_REGULAR}"
    return f"skipped: it is {_kind(mode)}; {NOT_REGULAR}"


def content_files(folder: Path, suffix: str, *, recursive: bool = False,
                  hidden: bool = True) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Regular files named `*suffix` in `folder` (and its real subfolders if `recursive`),
    sorted; plus every link or special file that would have matched, with the reason it was
    left out. Links to folders are reported too and never followed."""
    files: list[Path] = []
    refused: list[tuple[Path, str]] = []
    if not folder.is_dir():
        return files, refused
    pending = [folder]
    while pending:
        current = pending.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                if not hidden and entry.name.startswith("."):
                    continue
                path = Path(entry.path)
                mode = entry.stat(follow_symlinks=False).st_mode
                if stat.S_ISDIR(mode):
                    if recursive:
                        pending.append(path)
                elif stat.S_ISREG(mode):
                    if entry.name.endswith(suffix):
                        files.append(path)
                elif entry.name.endswith(suffix) or (stat.S_ISLNK(mode) and recursive
                                                     and path.is_dir()):
                    refused.append((path, _refusal(path, mode)))
    return sorted(files), sorted(refused)


def read_regular(path: Path) -> bytes:
    """The bytes of a regular file; a link or special file raises OSError with a reason.

    Checked on the open file itself, so a file swapped for a link after listing is refused too.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == 40:  # ELOOP: the last part of the path is a symbolic link
            raise OSError(exc.errno, f"it is a symbolic link; {NOT_REGULAR}") from None
        raise
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(0, f"it is {_kind(mode)}; {NOT_REGULAR}")
        return handle.read()
