"""Local stand-ins for services these machines cannot reach (WeChat's API)."""
