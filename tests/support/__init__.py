"""What tests share: paths to the data slices, settings, the CLI run in- and out-of-process,
the provider sandboxes' clients, a real SMTP server, builders of stored data, and the shifted
clock. Test modules import from here, never from one another (import-linter checks it)."""
