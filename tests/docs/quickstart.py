# Copyright: Contributors to the keyvault.azure collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the README's quickstart the way a reader types it.

The README marks the quickstart's code blocks with HTML comments (invisible once rendered):

- ``<!-- quickstart: own terminal -->``: the block's commands run in the background, in a shell of
  their own, for the rest of the quickstart (``make vault``). The quickstart goes on once every
  output line the block shows has been printed.
- ``<!-- quickstart: shell -->``: the block's commands run one after the other in a single shell
  (blocks of this kind continue the same session), which stops at the first failing command.

In a block, a line starting with ``$ `` is a command (a trailing backslash continues it on the next
line); any other line is output the command before it must print, in that order. ``...`` on a line
of its own stands for lines left out, within a line for any text; runs of spaces match any spacing.

Usage: ``quickstart.py README CHECKOUT REPORT``: runs the quickstart of README in CHECKOUT with this
process's environment and writes what happened to REPORT (JSON), for tests/docs/test_readme.py.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

MARKER = re.compile(r'^<!--\s*quickstart:\s*(own terminal|shell)\s*-->\s*$')
FENCE = re.compile(r'^```')
PROMPT = '$ '
ELISION = '...'
# Separates the output of one command from the next; the commands themselves run unchanged.
SEPARATOR = '@@quickstart-command-done@@'
BACKGROUND_READY_TIMEOUT = 300
COMMAND_TIMEOUT = 900


class QuickstartError(Exception):
    pass


def parse(readme_text):
    """[(kind, [(command, [expected output lines])])] for each marked block, in the README's order."""
    blocks = []
    lines = readme_text.splitlines()
    index = 0
    while index < len(lines):
        marker = MARKER.match(lines[index].strip())
        index += 1
        if not marker:
            continue
        while index < len(lines) and not lines[index].strip():
            index += 1
        if index >= len(lines) or not FENCE.match(lines[index]):
            raise QuickstartError('the quickstart marker on line %d is not followed by a code block' % index)
        index += 1
        steps = []
        continued = False
        while index < len(lines) and not FENCE.match(lines[index]):
            line = lines[index]
            index += 1
            if continued:
                steps[-1][0] += '\n' + line
            elif line.startswith(PROMPT):
                steps.append([line[len(PROMPT):], []])
            elif line.strip() and line.strip() != ELISION:
                if not steps:
                    raise QuickstartError('output before the first command of a quickstart block: %r' % line)
                steps[-1][1].append(line.strip())
            continued = bool(steps) and (line.startswith(PROMPT) or continued) and line.endswith('\\')
        blocks.append((marker.group(1), [tuple(step) for step in steps]))
    if not any(block[0] == 'shell' for block in blocks):
        raise QuickstartError('the README marks no quickstart shell block')
    return blocks


def _line_pattern(expected_line):
    parts = [r'\s+'.join(re.escape(word) for word in part.split()) for part in expected_line.split(ELISION)]
    return re.compile('.*?'.join(parts))


def missing_lines(expected, output):
    """Expected lines that the output lacks, each looked for on a line after the one before it."""
    output_lines = output.splitlines()
    position = 0
    for number, line in enumerate(expected):
        pattern = _line_pattern(line)
        while position < len(output_lines) and not pattern.search(output_lines[position]):
            position += 1
        if position == len(output_lines):
            return expected[number:]
        position += 1
    return []


def start_background(commands, checkout, log_path):
    log = open(log_path, 'w')  # pylint: disable=consider-using-with
    return subprocess.Popen(['bash', '-e', '-c', '\n'.join(commands)], cwd=checkout, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def wait_for_output(process, log_path, expected):
    deadline = time.monotonic() + BACKGROUND_READY_TIMEOUT
    while True:
        with open(log_path, encoding='utf-8', errors='replace') as log:
            output = log.read()
        if not missing_lines(expected, output):
            return
        if process.poll() is not None:
            raise QuickstartError('the own-terminal block ended (status %d) before printing %r' % (process.returncode, missing_lines(expected, output)))
        if time.monotonic() > deadline:
            raise QuickstartError('the own-terminal block did not print %r within %d seconds' % (missing_lines(expected, output), BACKGROUND_READY_TIMEOUT))
        time.sleep(0.2)


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run_shell(steps, checkout):
    """Runs the commands in one bash session; returns [{'command', 'expected', 'output'}] up to the one that failed, and bash's status."""
    script = ['set -e']
    for command, unused_expected in steps:
        script.extend([command, 'echo ' + SEPARATOR])
    completed = subprocess.run(['bash', '-c', '\n'.join(script)], cwd=checkout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, timeout=COMMAND_TIMEOUT, check=False)
    outputs = completed.stdout.split(SEPARATOR + '\n')
    results = [{'command': command, 'expected': expected, 'output': output}
               for (command, expected), output in zip(steps, outputs)]
    return results, completed.returncode


def run(readme_path, checkout):
    with open(readme_path, encoding='utf-8') as readme:
        blocks = parse(readme.read())
    report = {'background': [], 'steps': [], 'status': None}
    background = []
    try:
        for number, (kind, steps) in enumerate(blocks):
            if kind == 'own terminal':
                log_path = os.path.join(checkout, '.quickstart-terminal-%d.log' % number)
                process = start_background([step[0] for step in steps], checkout, log_path)
                background.append((process, log_path))
                wait_for_output(process, log_path, [line for step in steps for line in step[1]])
        shell_steps = [step for kind, steps in blocks if kind == 'shell' for step in steps]
        report['steps'], report['status'] = run_shell(shell_steps, checkout)
    except QuickstartError as error:
        report['error'] = str(error)
    finally:
        for process, log_path in background:
            stop(process)
            with open(log_path, encoding='utf-8', errors='replace') as log:
                report['background'].append(log.read())
    return report


def main():
    readme_path, checkout, report_path = sys.argv[1:4]
    report = run(readme_path, checkout)
    with open(report_path, 'w', encoding='utf-8') as output:
        json.dump(report, output, indent=2)


if __name__ == '__main__':
    main()
