"""The store's lock (citetool/locking.py) against filelock's: each excludes the
other, across processes too, and a crashed holder releases it."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import time

import pytest
from filelock import FileLock, Timeout
from filelock import __version__ as filelock_version

from citetool import locking
from citetool.errors import StoreLocked
from citetool.locking import LockTimeout, acquire, is_free
from citetool.store import Store

posix_only = pytest.mark.skipif(not hasattr(os, "fork"), reason="flock is taken here on POSIX only")


@posix_only
def test_filelock_cannot_take_the_lock_ours_holds(tmp_path):
    path = str(tmp_path / "s.json.lock")
    release = acquire(path, 0)
    with pytest.raises(Timeout):
        FileLock(path, timeout=0.1).acquire()
    release()
    theirs = FileLock(path, timeout=0)
    theirs.acquire()  # free once ours is released
    theirs.release()


def test_ours_cannot_take_the_lock_filelock_holds(tmp_path):
    path = str(tmp_path / "s.json.lock")
    started = time.monotonic()
    with FileLock(path):
        with pytest.raises(LockTimeout):
            acquire(path, 0.2)
        assert not is_free(path)
    assert time.monotonic() - started >= 0.2  # it waited the timeout, trying again
    assert is_free(path)


def test_a_lock_held_by_another_process_waits_then_is_released_by_its_crash(tmp_path):
    path = str(tmp_path / "s.json.lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\nfrom citetool.locking import acquire\n"
         f"acquire({path!r}, 5); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        store = Store(tmp_path / "s.json", lock_timeout=0.2)
        with pytest.raises(StoreLocked, match="locked by another citetool process"), store.locked():
            pass
        holder.send_signal(signal.SIGKILL)  # a crash: the system releases its lock
        holder.wait(10)
        with store.locked():
            assert not is_free(path)
        assert is_free(path)
    finally:
        holder.kill()
        holder.wait(10)


@posix_only
def test_without_flock_the_lock_is_filelocks(tmp_path, monkeypatch):
    """A file system without flock (ENOSYS): filelock's own lock file, which still excludes."""
    import fcntl

    real = fcntl.flock

    def no_flock(fd, operation):
        if operation & fcntl.LOCK_EX:
            raise OSError(errno.ENOSYS, "Function not implemented")
        return real(fd, operation)

    monkeypatch.setattr(fcntl, "flock", no_flock)
    used = []
    monkeypatch.setattr(locking, "_acquired_by_filelock",
                        lambda path, timeout, real_one=locking._acquired_by_filelock: used.append(path) or real_one(path, timeout))
    path = str(tmp_path / "s.json.lock")
    release = acquire(path, 0)
    assert used == [path]
    with pytest.raises(LockTimeout):
        acquire(path, 0.1)
    release()
    acquire(path, 0)()


def test_a_lock_file_that_is_a_link_is_not_followed(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("mine")
    (tmp_path / "s.json.lock").symlink_to(victim)
    store = Store(tmp_path / "s.json", lock_timeout=0.1)
    with pytest.raises(Exception, match="cannot lock store"), store.locked():
        pass
    assert victim.read_text() == "mine"


@posix_only
@pytest.mark.parametrize("umask", [0o002, 0o022, 0o077])
def test_the_lock_file_is_made_with_filelocks_permissions(tmp_path, umask):
    """A store shared by a group (a setgid folder, umask 002): the lock file must
    be one every member can open to lock, as filelock makes it (0o666 through the
    umask); a 0o644 lock file left by one member refused the others'
    writes ("cannot lock store: Permission denied")."""
    store = Store(tmp_path / "s.json", lock_timeout=0.1)
    theirs = tmp_path / "theirs.json.lock"
    before = os.umask(umask)
    try:
        with store.locked():
            pass
        FileLock(str(theirs)).acquire().lock.release()
    finally:
        os.umask(before)
    assert oct(store.lock_path.stat().st_mode & 0o777) == oct(0o666 & ~umask)
    if int(filelock_version.split(".")[0]) >= 4:  # (filelock before its #483 forced 0o644 whatever the umask)
        assert oct(theirs.stat().st_mode & 0o777) == oct(0o666 & ~umask)
