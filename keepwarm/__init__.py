"""keepwarm: keeps your professional network warm from mail and calendar metadata.

The one import package. Its three layers are folders of their own in the repository,
linked in here, and depend one way only (checked by import-linter in CI):

- `keepwarm.connectors`: provider adapters and file importers yielding provider-neutral records;
- `keepwarm.services`: the domain, its storage and its use cases (what the CLI and web call);
- `keepwarm.workers`: Dramatiq actors and the entry points (the `keepwarm` command).
"""

__version__ = "0.2.0"
