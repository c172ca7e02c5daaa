"""The toolkit has no web interface; its interface is the management commands."""

urlpatterns: list = []
