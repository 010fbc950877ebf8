"""`invoke bench`: figures measured as ratios against a floor taken in the same run."""
