"""Finance area views (payment_views)."""
