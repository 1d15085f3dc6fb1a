"""Command line: ``python -m localvault --state-dir DIR [--host H] [--vault-port N] [--imds-port N] [--ephemeral] [--config FILE]``."""

import argparse
import logging
import shlex
import signal
import sys
import threading

from localvault import config as vault_config
from localvault.server import ENV_FILE, LocalVault


def parse_arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m localvault", description="Run a local Azure Key Vault with a managed-identity endpoint.")
    parser.add_argument("--state-dir", required=True, help="folder for the CA, keys, database, connection.json and env.sh")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--vault-port", type=int, default=8443, help="HTTPS port of the vault; 0 picks a free one (default 8443)")
    parser.add_argument("--imds-port", type=int, default=8444, help="HTTP port of the managed-identity endpoint; 0 picks a free one (default 8444)")
    parser.add_argument("--ephemeral", action="store_true", help="keep secrets and certificates in memory only")
    parser.add_argument("--config", help="JSON configuration file (identities, permissions, delays, extra certificate names)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


def main(argv=None):
    arguments = parse_arguments(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.DEBUG if arguments.verbose else logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        configuration = vault_config.load(arguments.config)
    except vault_config.ConfigError as exc:
        sys.stderr.write(f"localvault: {exc}\n")
        return 2
    stop_requested = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda *_: stop_requested.set())
    vault = LocalVault(configuration, arguments.state_dir, host=arguments.host, vault_port=arguments.vault_port,
                       imds_port=arguments.imds_port, ephemeral=arguments.ephemeral)
    try:
        connection = vault.start()
    except OSError as exc:
        sys.stderr.write(f"localvault: cannot start: {exc}\n")
        return 1
    sys.stdout.write(
        f"localvault ready\n  vault URL:  {connection['vault_url']}\n  IMDS:       {connection['imds_url']}\n"
        f"  CA bundle:  {connection['ca_bundle']}\n  controls:   {connection['controls_url']}\n"
        f"  client environment (also in {vault.state_dir}/{ENV_FILE}):\n"
        + "".join(f"    export {name}={shlex.quote(value)}\n" for name, value in vault.client_environment().items()))
    sys.stdout.flush()
    stop_requested.wait()
    vault.stop()
    sys.stdout.write("localvault stopped\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
