"""The domain: storage, identity, derivation of interactions and the reconnect engine."""
