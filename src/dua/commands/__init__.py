"""One module per `dua` subcommand (thin shells over the components)."""
