"""The write lock shared by the processes that serve one SQLite file (`scomm serve
--acceptors N`): it excludes the other processes and the process's other threads, and a
holder that is killed lets it go."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scomm.store.errors import WriteLockError
from scomm.store.write_lock import LOCK_SUFFIX, ProcessWriteLock, write_lock_for

HOLD = """
import sys, time
from pathlib import Path
from scomm.store.write_lock import ProcessWriteLock
lock = ProcessWriteLock(Path(sys.argv[1]))
print("waiting", flush=True)
lock.acquire()
print(f"acquired {time.time():.6f}", flush=True)
if sys.argv[2] == "forever":
    time.sleep(600)
lock.release()
"""


def start_holder(path: Path, how: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path), how], stdout=subprocess.PIPE, text=True
    )


def test_a_sqlite_file_gets_a_lock_beside_it_and_other_databases_a_thread_lock(
    tmp_path: Path,
) -> None:
    lock = write_lock_for(f"sqlite:///{tmp_path / 'scomm.db'}")
    assert isinstance(lock, ProcessWriteLock)
    assert lock.path == tmp_path / f"scomm.db{LOCK_SUFFIX}" and lock.path.is_file()
    lock.close()
    for url in ("sqlite://", "sqlite:///:memory:", "postgresql://u@localhost/scomm"):
        assert not isinstance(write_lock_for(url), ProcessWriteLock), url


def test_another_process_waits_until_the_holder_lets_go(tmp_path: Path) -> None:
    path = tmp_path / "scomm.db.writer-lock"
    lock = ProcessWriteLock(path)
    with lock:
        other = start_holder(path, "once")
        assert other.stdout is not None
        assert other.stdout.readline().strip() == "waiting"  # at its acquire, from now on
        time.sleep(0.5)
        assert other.poll() is None  # still waiting for the lock
        released = time.time()
    out, _ = other.communicate(timeout=30)
    assert other.returncode == 0
    assert float(out.split()[1]) >= released
    lock.close()


def test_a_killed_holder_lets_the_lock_go(tmp_path: Path) -> None:
    path = tmp_path / "scomm.db.writer-lock"
    holder = start_holder(path, "forever")
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "waiting"
        assert holder.stdout.readline().startswith("acquired")
        lock = ProcessWriteLock(path)
        taken = threading.Event()

        def take() -> None:
            with lock:
                taken.set()

        waiter = threading.Thread(target=take, daemon=True)
        waiter.start()
        assert not taken.wait(0.3)  # held by the other process
        holder.kill()
        holder.wait(timeout=30)
        assert taken.wait(10)  # the kernel let it go with the process
        waiter.join(timeout=10)
        lock.close()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_the_threads_of_one_process_take_it_in_turn(tmp_path: Path) -> None:
    lock = ProcessWriteLock(tmp_path / "lock")
    inside = 0
    most = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        for _ in range(50):
            with lock:
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.0005)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1
    lock.close()


def test_only_its_holder_releases_it_and_a_held_one_is_not_closed(tmp_path: Path) -> None:
    path = tmp_path / "lock"
    lock = ProcessWriteLock(path)
    lock.acquire()
    failed: list[BaseException] = []

    def stray() -> None:
        try:
            lock.release()
        except RuntimeError as error:
            failed.append(error)

    thread = threading.Thread(target=stray)
    thread.start()
    thread.join()
    assert failed and lock.locked()
    other = start_holder(path, "once")  # the flock is still held: the other process waits
    assert other.stdout is not None and other.stdout.readline().strip() == "waiting"
    time.sleep(0.3)
    assert other.poll() is None
    with pytest.raises(WriteLockError, match="held"):
        lock.close()
    lock.release()
    assert other.wait(timeout=30) == 0 and not lock.locked()
    lock.close()


def test_a_closed_lock_refuses_and_an_unopenable_one_says_why(tmp_path: Path) -> None:
    lock = ProcessWriteLock(tmp_path / "lock")
    lock.close()
    with pytest.raises(WriteLockError, match="closed"):
        lock.acquire()
    with pytest.raises(WriteLockError, match="cannot open the write lock"):
        ProcessWriteLock(tmp_path / "missing-folder" / "lock")
