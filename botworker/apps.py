from django.apps import AppConfig


class BotworkerConfig(AppConfig):
    name = "botworker"
    verbose_name = "Discord bot"
