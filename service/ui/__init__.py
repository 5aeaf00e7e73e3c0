"""The planners' dashboard under ``/ui``: server-rendered pages over the same store and rules."""
