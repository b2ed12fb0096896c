"""Finance area views (act_views)."""
