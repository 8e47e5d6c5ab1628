"""The media archive: result files copied out of the provider before they expire."""
