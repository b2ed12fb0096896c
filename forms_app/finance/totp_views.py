"""Finance area views (totp_views)."""
