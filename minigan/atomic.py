"""Atomic file writes: a file is either its old self or completely the new one.

Checkpoints, downloads and pictures are all written the same way: into a temporary file
beside the target (``os.replace`` is atomic only within one file system), flushed and
fsynced, then renamed over the target, and the rename itself made durable by an fsync of
the directory. If anything fails before the rename, the temporary file is removed and the
old target is untouched — so a run killed mid-save never leaves a truncated file behind.
"""
import contextlib
import os
import uuid


@contextlib.contextmanager
def atomic_write(path):
    """Open a binary file to write ``path`` atomically; it replaces ``path`` when the
    block ends without an exception. Parent directories are created. A new file gets the
    permissions a plain ``open`` would give it; an existing one keeps its own.

    >>> import tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "sub", "a.bin")
    >>> with atomic_write(target) as f:
    ...     _ = f.write(b"new")
    >>> open(target, "rb").read()
    b'new'
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{uuid.uuid4().hex}.tmp")
    try:
        with open(tmp, "xb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if os.path.exists(path):
            os.chmod(tmp, os.stat(path).st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Make the rename itself durable (POSIX); not possible on every platform."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
