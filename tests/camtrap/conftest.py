import pytest

from ami.main.demo import load_demo_project


@pytest.fixture
def demo(db):
    return load_demo_project()


@pytest.fixture
def package(tmp_path):
    """package(project, name="package.zip", **options) -> path of a fresh Camtrap DP package."""
    from dwca_port.export import export_project

    def run(project, name="package.zip", **options):
        path = tmp_path / name
        export_project(project, str(path) + ("/" if name.endswith("/") else ""), format="camtrap-dp", **options)
        return path

    return run
