"""Browser tests: the real app over HTTP, driven by headless Chromium, checked with axe-core."""
