"""Provider adapters and file importers.

Connectors turn a provider's data into provider-neutral records (`connectors.types`). They know
nothing of the database, the settings or the workers: `services` calls them, never the reverse.
"""
