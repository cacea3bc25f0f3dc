"""Anonymous face tracks: faces linked across frames by position and motion only (no Flask)."""
