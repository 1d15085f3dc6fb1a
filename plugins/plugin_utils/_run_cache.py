# -*- coding: utf-8 -*-
# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the worker processes of one ansible-playbook run share: tokens, opted-in values, and locks.

For internal collection use only: names and behaviour may change without notice.

Ansible runs each task for each host in a worker process of its own, forked from the
ansible-playbook process. Those workers share nothing in memory, so what they share goes through a
directory of the run: ``<base>/run-<pid>-<start time>`` of the ansible-playbook process, where base
is ``$XDG_RUNTIME_DIR/keyvault-azure`` or else ``/dev/shm/keyvault-azure-<uid>`` (memory, not disk)
or else the temporary directory. Directories are 0700 and files 0600, owned by the user running
Ansible; a base that is not is refused, and the next one is tried, down to one in Ansible's private
temporary directory of the run (see default_base_directories). Files are opened without following
symbolic links, and written under new names (O_EXCL) then renamed into place. The first worker that creates
the run directory starts a small watcher process that removes the directory as soon as the
ansible-playbook process ends; each new run also removes what runs that ended left behind.

This file uses the standard library only: it is also the watcher's script.
"""

import errno
import fcntl
import hashlib
import json
import multiprocessing
import os
import select
import shutil
import stat
import subprocess
import sys
import tempfile
import time

RUN_PREFIX = 'run-'


class RunCacheUnavailable(Exception):
    """The run directory cannot be used safely; the caller goes on without sharing."""


def run_owner():
    """The ansible-playbook process: the parent of a worker, or this process when it is not a worker."""
    parent = multiprocessing.parent_process()
    return parent.pid if parent is not None else os.getpid()


def process_start_time(pid):
    """The start time of ``pid`` in clock ticks since boot (Linux), '0' where unknown, None when it is gone.

    Together with the pid it names a process uniquely even after the pid is reused.
    """
    try:
        with open('/proc/%d/stat' % pid) as stat_file:
            # The command name (field 2) may contain spaces and parentheses; the fields after it do not.
            return stat_file.read().rsplit(')', 1)[1].split()[19]
    except (IOError, OSError, IndexError):
        if not os.path.isdir('/proc/self'):
            return '0' if _pid_exists(pid) else None
        return None


def _pid_exists(pid):
    try:
        os.kill(pid, 0)
    except OSError as error:
        return error.errno == errno.EPERM
    return True


def default_base_directories(private_fallback=None):
    """Where the run's cache may live, best first.

    ``$XDG_RUNTIME_DIR`` counts only when this user owns it and no one else can write to it: root run
    with a user's environment (``sudo -E``) would otherwise keep tokens in a folder that user controls.
    The names under /dev/shm and the temporary directory are predictable, so another user can take them
    first; ``private_fallback`` (Ansible's own per-run temporary directory, made with mkdtemp) cannot be
    taken, and every worker of the run inherits its name.
    """
    candidates = []
    runtime_dir = os.environ.get('XDG_RUNTIME_DIR')
    if runtime_dir and _is_own_unshared_directory(runtime_dir):
        candidates.append(os.path.join(runtime_dir, 'keyvault-azure'))
    if os.path.isdir('/dev/shm'):
        candidates.append('/dev/shm/keyvault-azure-%d' % os.getuid())
    candidates.append(os.path.join(tempfile.gettempdir(), 'keyvault-azure-%d' % os.getuid()))
    if private_fallback:
        candidates.append(os.path.join(private_fallback, 'keyvault-azure'))
    return candidates


def _is_own_unshared_directory(path):
    try:
        status = os.stat(path)
    except OSError:
        return False
    return stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid() and not status.st_mode & 0o022


def _private_directory(path):
    """Create ``path`` (0700) or accept it when it already is a directory only this user can use."""
    try:
        os.mkdir(path, 0o700)
        created = True
    except OSError as error:
        if error.errno != errno.EEXIST:
            raise RunCacheUnavailable('cannot create %s: %s' % (path, error.strerror))
        created = False
    status = os.lstat(path)
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.getuid() or status.st_mode & 0o077:
        raise RunCacheUnavailable('%s is not a directory that only user %d can use' % (path, os.getuid()))
    return created


class RunCache(object):
    """The shared directory of one ansible-playbook run."""

    def __init__(self, directory, refused=()):
        self.directory = directory
        # Why each better base directory was passed over, for a warning.
        self.refused = tuple(refused)

    @classmethod
    def open_first_usable(cls, bases, owner=None):
        """The cache of the run in the first of ``bases`` that can be used safely; RunCacheUnavailable naming why none can."""
        refused = []
        for base in bases:
            try:
                cache = cls.open(base, owner)
            except RunCacheUnavailable as error:
                refused.append(str(error))
            else:
                cache.refused = tuple(refused)
                return cache
        raise RunCacheUnavailable('; '.join(refused))

    @classmethod
    def open(cls, base, owner=None):
        """The cache of the run ``owner`` (default: this run) in ``base``; RunCacheUnavailable when it cannot be used."""
        owner = owner or run_owner()
        started = process_start_time(owner)
        if started is None:
            raise RunCacheUnavailable('the ansible-playbook process %d is gone' % owner)
        _private_directory(base)
        directory = os.path.join(base, '%s%d-%s' % (RUN_PREFIX, owner, started))
        if _private_directory(directory):
            remove_ended_runs(base)
            start_watcher(directory, owner, started)
        return cls(directory)

    def _path(self, namespace, key):
        digest = hashlib.sha256(json.dumps([namespace, key], sort_keys=True, default=str).encode('utf-8')).hexdigest()
        return os.path.join(self.directory, '%s-%s' % (namespace, digest))

    def locked(self, namespace, key):
        """A context manager holding the run-wide lock for ``key``: one process of the run at a time."""
        return _FileLock(self._path(namespace, key) + '.lock')

    def shared(self, namespace, key, fetch, usable=None):
        """The record stored for ``key`` when there is one and ``usable(record)``, else ``fetch()``, stored.

        Processes asking for the same key at once wait for the first one, so ``fetch`` runs once.
        ``fetch`` returns a JSON-serialisable record; an exception from it stores nothing.
        """
        path = self._path(namespace, key)
        with _FileLock(path + '.lock'):
            record = _read_record(path)
            if record is not None and (usable is None or usable(record)):
                return record
            record = fetch()
            _write_record(path, record)
            return record


class _FileLock(object):
    def __init__(self, path):
        self._path = path
        self._fd = None

    def __enter__(self):
        self._fd = _open_no_link(self._path, os.O_RDWR | os.O_CREAT)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info):
        os.close(self._fd)
        self._fd = None


def _open_no_link(path, flags):
    """``os.open`` that refuses a symbolic link in place of ``path``: nothing is read or written through one."""
    try:
        return os.open(path, flags | os.O_NOFOLLOW, 0o600)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise RunCacheUnavailable('%s is a symbolic link; the run cache uses only files it created itself' % path)
        raise


def _read_record(path):
    try:
        fd = _open_no_link(path, os.O_RDONLY)
    except OSError:
        return None
    with os.fdopen(fd, 'r') as record_file:
        try:
            return json.load(record_file)
        except ValueError:
            return None


def _write_record(path, record):
    temporary = '%s.%d.tmp' % (path, os.getpid())
    try:
        fd = _open_no_link(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except OSError as error:
        if error.errno != errno.EEXIST:
            raise
        # Left by an earlier process with the same pid, or planted: removed, not written through.
        os.unlink(temporary)
        fd = _open_no_link(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    with os.fdopen(fd, 'w') as record_file:
        json.dump(record, record_file)
    os.replace(temporary, path)


def remove_ended_runs(base):
    """Remove the directories of runs whose ansible-playbook process has ended."""
    for name in os.listdir(base):
        if not name.startswith(RUN_PREFIX):
            continue
        try:
            pid, started = name[len(RUN_PREFIX):].split('-', 1)
            ended = process_start_time(int(pid)) != started
        except ValueError:
            continue
        if ended:
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)


def start_watcher(directory, owner, started):
    """A detached process that removes ``directory`` once the process ``owner`` has ended."""
    subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, os.path.abspath(__file__), directory, str(owner), started],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True, start_new_session=True)


def watch(directory, owner, started):
    try:
        process = os.pidfd_open(owner)
    except (AttributeError, OSError):
        process = None
    if process is not None and process_start_time(owner) == started:
        # A process file descriptor becomes readable when the process ends.
        select.select([process], [], [])
    else:
        while process_start_time(owner) == started and os.path.isdir(directory):
            time.sleep(1)
    shutil.rmtree(directory, ignore_errors=True)


if __name__ == '__main__':
    watch(sys.argv[1], int(sys.argv[2]), sys.argv[3])
