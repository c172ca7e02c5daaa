from django.apps import AppConfig


class MainConfig(AppConfig):
    name = "ami.main"
    label = "main"
    default_auto_field = "django.db.models.BigAutoField"
