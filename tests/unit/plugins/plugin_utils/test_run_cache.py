# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run's shared directory: one fetch for concurrent processes, private files, removal when the run ends."""

import multiprocessing
import os
import stat
import subprocess
import sys
import time

import pytest

from ansible_collections.keyvault.azure.plugins.plugin_utils._run_cache import (
    RunCache,
    RunCacheUnavailable,
    default_base_directories,
    process_start_time,
    remove_ended_runs,
)


def wait_for(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


@pytest.fixture
def owner():
    """A process standing in for ansible-playbook, ended by the test or after it."""
    process = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])
    yield process
    process.kill()
    process.wait()


def fetch_in_process(directory, count_file, results):
    def fetch():
        with open(count_file, 'a') as count:
            count.write('fetched\n')
        time.sleep(0.3)
        return {'token': 'shared-token', 'by': os.getpid()}
    results.put(RunCache(directory).shared('token', ['identity', ['scope']], fetch))


def test_concurrent_processes_fetch_once_and_all_get_the_record(tmp_path, owner):
    cache = RunCache.open(str(tmp_path / 'base'), owner=owner.pid)
    results = multiprocessing.get_context('fork').Queue()
    count_file = str(tmp_path / 'fetches')
    processes = [multiprocessing.get_context('fork').Process(target=fetch_in_process, args=(cache.directory, count_file, results))
                 for process_number in range(6)]
    for process in processes:
        process.start()
    records = [results.get(timeout=30) for process in processes]
    for process in processes:
        process.join()
    with open(count_file) as count:
        assert count.read().splitlines() == ['fetched']
    assert len(set(record['by'] for record in records)) == 1


def test_an_unusable_record_is_fetched_again_and_a_failed_fetch_stores_nothing(tmp_path, owner):
    cache = RunCache.open(str(tmp_path / 'base'), owner=owner.pid)
    assert cache.shared('value', 'k', lambda: {'n': 1}) == {'n': 1}
    assert cache.shared('value', 'k', lambda: {'n': 2}) == {'n': 1}
    assert cache.shared('value', 'k', lambda: {'n': 3}, usable=lambda record: record['n'] > 1) == {'n': 3}

    def failing():
        raise ValueError('no')
    with pytest.raises(ValueError):
        cache.shared('value', 'other', failing)
    assert cache.shared('value', 'other', lambda: {'n': 4}) == {'n': 4}


def test_directories_are_0700_and_files_0600(tmp_path, owner):
    base = tmp_path / 'base'
    cache = RunCache.open(str(base), owner=owner.pid)
    cache.shared('token', 'k', lambda: {'token': 't'})
    assert stat.S_IMODE(os.stat(str(base)).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache.directory).st_mode) == 0o700
    modes = set(stat.S_IMODE(os.stat(os.path.join(cache.directory, name)).st_mode) for name in os.listdir(cache.directory))
    assert modes == set([0o600])


@pytest.mark.parametrize('make_unsafe', ['open-to-others', 'symlink'])
def test_a_base_directory_others_could_use_is_refused(tmp_path, owner, make_unsafe):
    base = tmp_path / 'base'
    if make_unsafe == 'open-to-others':
        base.mkdir()
        os.chmod(str(base), 0o777)
    else:
        (tmp_path / 'elsewhere').mkdir(mode=0o700)
        os.symlink(str(tmp_path / 'elsewhere'), str(base))
    with pytest.raises(RunCacheUnavailable, match='is not a directory that only user %d can use' % os.getuid()):
        RunCache.open(str(base), owner=owner.pid)


def test_a_refused_base_gives_way_to_the_next_private_one(tmp_path, owner):
    taken = tmp_path / 'taken'
    taken.mkdir()
    os.chmod(str(taken), 0o777)
    cache = RunCache.open_first_usable([str(taken), str(tmp_path / 'private')], owner=owner.pid)
    assert os.path.dirname(cache.directory) == str(tmp_path / 'private')
    assert cache.refused == ('%s is not a directory that only user %d can use' % (taken, os.getuid()),)
    with pytest.raises(RunCacheUnavailable, match='^%s is not a directory that only user %d can use$' % (taken, os.getuid())):
        RunCache.open_first_usable([str(taken)], owner=owner.pid)


@pytest.mark.parametrize('make_unsafe', ['open-to-others', 'owned-by-another-user', 'private'])
def test_a_runtime_dir_is_used_only_when_private_to_this_user(tmp_path, monkeypatch, make_unsafe):
    runtime_dir = tmp_path / 'runtime'
    runtime_dir.mkdir(mode=0o700)
    if make_unsafe == 'open-to-others':
        os.chmod(str(runtime_dir), 0o777)
    elif make_unsafe == 'owned-by-another-user':
        if os.getuid() != 0:
            pytest.skip('only root can give a folder to another user')
        os.chown(str(runtime_dir), 65534, 65534)
    monkeypatch.setenv('XDG_RUNTIME_DIR', str(runtime_dir))
    candidates = default_base_directories(str(tmp_path / 'ansible-local'))
    assert (os.path.join(str(runtime_dir), 'keyvault-azure') in candidates) == (make_unsafe == 'private')
    # Ansible's per-run temporary directory: a name no one else can take first, tried last.
    assert candidates[-1] == str(tmp_path / 'ansible-local' / 'keyvault-azure')


@pytest.mark.parametrize('planted', ['record', 'lock', 'temporary'])
def test_nothing_is_read_or_written_through_a_symbolic_link(tmp_path, owner, planted):
    cache = RunCache.open(str(tmp_path / 'base'), owner=owner.pid)
    target = tmp_path / 'target'
    target.write_text('untouched')
    path = cache._path('token', 'k')  # pylint: disable=protected-access
    planted_path = {'record': path, 'lock': path + '.lock', 'temporary': '%s.%d.tmp' % (path, os.getpid())}[planted]
    os.symlink(str(target), planted_path)
    if planted == 'temporary':
        # A leftover or planted temporary name is removed, and the record written under a new file.
        assert cache.shared('token', 'k', lambda: {'token': 't'}) == {'token': 't'}
        assert not os.path.islink(path)
    else:
        with pytest.raises(RunCacheUnavailable, match='^%s is a symbolic link' % planted_path):
            cache.shared('token', 'k', lambda: {'token': 't'})
    assert target.read_text() == 'untouched'


def test_the_watcher_removes_the_run_directory_when_the_run_ends(tmp_path, owner):
    cache = RunCache.open(str(tmp_path / 'base'), owner=owner.pid)
    cache.shared('token', 'k', lambda: {'token': 't'})
    time.sleep(0.5)
    assert os.path.isdir(cache.directory)
    owner.kill()
    owner.wait()
    assert wait_for(lambda: not os.path.exists(cache.directory))


def test_a_new_run_removes_the_directories_of_runs_that_ended(tmp_path, owner):
    base = tmp_path / 'base'
    base.mkdir(mode=0o700)
    ended = subprocess.Popen([sys.executable, '-c', 'pass'])
    ended_start = process_start_time(ended.pid)
    ended.wait()
    (base / ('run-%d-%s' % (ended.pid, ended_start))).mkdir(mode=0o700)
    live = base / ('run-%d-%s' % (owner.pid, process_start_time(owner.pid)))
    live.mkdir(mode=0o700)
    remove_ended_runs(str(base))
    assert os.listdir(str(base)) == [live.name]


def test_a_run_that_has_ended_gets_no_cache(tmp_path):
    ended = subprocess.Popen([sys.executable, '-c', 'pass'])
    ended.wait()
    with pytest.raises(RunCacheUnavailable, match='is gone'):
        RunCache.open(str(tmp_path / 'base'), owner=ended.pid)
