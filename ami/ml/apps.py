from django.apps import AppConfig


class MlConfig(AppConfig):
    name = "ami.ml"
    label = "ml"
    default_auto_field = "django.db.models.BigAutoField"
