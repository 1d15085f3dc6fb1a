"""localvault: a local Azure Key Vault (secrets and certificates) with a managed-identity endpoint, for tests and demos."""
