"""Finance area views (bordereau_views)."""
