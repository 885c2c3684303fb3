"""Command-line tools: one module per command, each with a main(argv)."""
