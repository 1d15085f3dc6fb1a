# keyvault.azure: the two commands a new user runs are `make demo` and `make test`.

PYTHON ?= python3
VENV := $(CURDIR)/.venv
VENV_PYTHON := $(VENV)/bin/python
COLLECTIONS_DIR := $(VENV)/collections
BUILD_DIR := $(VENV)/build
STATE_DIR ?= $(CURDIR)/.localvault
PYTEST_ARGS ?=
BENCH_ARGS ?=
# More python -m localvault options for make vault, e.g. VAULT_ARGS="--vault-port 0 --imds-port 0".
VAULT_ARGS ?=
# Two workers: most of the suite waits on ansible-playbook runs and on the vault's simulated delays.
# Each test file stays on one worker, and the fleet tests all on the same one (see tests/conftest.py).
PYTEST_WORKERS ?= 2
PYTEST := $(VENV_PYTHON) -m pytest -n $(PYTEST_WORKERS) --dist loadfile
SDK_SUITE_ARGS ?=
SDK_SUITE := $(VENV_PYTHON) tests/sdk_suite/run.py --cache $(VENV)/sdk-suite $(SDK_SUITE_ARGS)

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS_DIR)
# The collection under test must not be shadowed by a copy in the user's own collection paths.
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH := false

.PHONY: demo test venv install vault sanity pytest localvault-tests unit integration sdk-suite sdk-suite-all-api-versions fleet-host-packages \
	fleet-tests fleet-demo fleet-demo-rbac bench clean

demo: install
	@echo "==> Starting a throw-away local Key Vault and running playbooks/demo.yml against it"
	tests/utils/with-localvault $(VENV)/bin/ansible-playbook -i playbooks/inventory/localhost.yml playbooks/demo.yml

test: venv fleet-host-packages
	$(PYTEST) $(PYTEST_ARGS) tests
	$(SDK_SUITE)
	$(VENV_PYTHON) tests/utils/sanity.py

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "keyvault.azure needs Python 3.10 or later to run its tests")'
	$(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --quiet --upgrade pip
	$(VENV_PYTHON) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Builds the collection the way ansible-galaxy users get it (build_ignore applied) and installs it
# into the virtual environment's own collection path.
install: venv
	rm -rf $(BUILD_DIR)
	$(VENV)/bin/ansible-galaxy collection build --force --output-path $(BUILD_DIR) .
	$(VENV)/bin/ansible-galaxy collection install --force -p $(COLLECTIONS_DIR) $(BUILD_DIR)/keyvault-azure-*.tar.gz

# The local vault in the foreground, keeping its state in .localvault/ across restarts. Its env.sh gives a
# shell this venv's tools and the collection installed here, so the README's quickstart runs as written.
vault: install
	$(VENV_PYTHON) -m localvault --state-dir $(STATE_DIR) --tools-dir $(VENV)/bin --collections-path $(COLLECTIONS_DIR) $(VAULT_ARGS)

sanity: venv
	$(VENV_PYTHON) tests/utils/sanity.py

pytest: venv fleet-host-packages
	$(PYTEST) $(PYTEST_ARGS) tests

localvault-tests: venv
	$(PYTEST) $(PYTEST_ARGS) tests/localvault

unit: venv
	$(PYTEST) $(PYTEST_ARGS) tests/unit

integration: venv
	$(PYTEST) $(PYTEST_ARGS) tests/integration

# The Azure SDK's own Key Vault tests (azure-keyvault-secrets/-certificates, see tests/sdk_suite/run.py), live
# against a fresh local vault; the SDK's sdists and a venv of the pinned SDK are kept in .venv/sdk-suite.
# make test runs them for the default API version; the second target runs every API version they know.
sdk-suite: venv
	$(SDK_SUITE)

sdk-suite-all-api-versions: venv
	$(SDK_SUITE) --all-api-versions

# The simulated VM fleet's system packages (sshd, ssh, ip). Where they cannot be installed the
# script says so and the fleet tests are skipped with that reason.
fleet-host-packages:
	tests/fleet/install-host-packages

fleet-tests: venv fleet-host-packages
	$(PYTEST) $(PYTEST_ARGS) tests/fleet

# Ten simulated Azure VMs reached over SSH, each with its own managed identity: the VM tutorial's
# secrets play, then playbooks/certificate_rollout.yml twice (the second run changes nothing). Needs root.
fleet-demo: venv fleet-host-packages
	$(VENV_PYTHON) tests/fleet/fleet_harness.py demo

# The same fleet on a vault with the Azure RBAC permission model: each VM's identity holds Key Vault Secrets User
# on its own application secret only, reads it, and is refused its neighbour's. Needs root.
fleet-demo-rbac: venv fleet-host-packages
	$(VENV_PYTHON) tests/fleet/fleet_harness.py demo --rbac

# Issue 7's benchmark against a throw-away local vault: a table here, JSON in .venv/bench/ (e.g. BENCH_ARGS="--only lookup50,floor").
bench: install
	$(VENV_PYTHON) tests/bench/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(STATE_DIR) tests/output .pytest_cache
