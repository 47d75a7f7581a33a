"""One module per API resource; each holds a sync class and its async twin side by side."""
