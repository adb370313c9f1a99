"""The bot's extensions: one package per feature, each with a plain `setup(bot)`."""
