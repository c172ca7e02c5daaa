from django.apps import AppConfig


class DwcaPortConfig(AppConfig):
    name = "dwca_port"
    label = "dwca_port"
    verbose_name = "Antenna portability (Darwin Core Archive)"
