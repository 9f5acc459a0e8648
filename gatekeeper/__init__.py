"""gatekeeper: keeps a site's cookie and third-party promises, and proves it."""
