"""Words for messages, text made safe where it leaves embproj, JSON without NaN, and the run's warnings."""
