"""The small web app the one-click links in digests and meeting prompts open."""

from keepwarm.services.web.app import create_app

__all__ = ["create_app"]
