"""Local emulators of the mail and calendar providers, for tests, the demo and benchmarks.

Nothing in keepwarm can reach Google or Microsoft, and no test may need them: these are plain
HTTP servers on loopback that the providers' real client libraries talk to unchanged but for
their endpoints. Production code never imports this package.

- `keepwarm.connectors.sandbox.google`: Google OAuth 2.0, Gmail v1 and Calendar v3 (`GoogleSandbox`)
- `keepwarm.connectors.sandbox.microsoft`: the Microsoft identity platform and Graph v1.0 mail
  and calendar (`MicrosoftSandbox`)
"""
