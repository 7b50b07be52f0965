"""Microsoft 365 and Outlook.com: consent through msal, mail and calendar metadata through
Graph v1.0 over httpx.

Only endpoints differ between Microsoft and the local sandbox
(`keepwarm.connectors.sandbox.microsoft`); this package never imports the sandbox.
"""
