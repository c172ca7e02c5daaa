import pytest

from ami.main.demo import load_demo_project


@pytest.fixture
def demo(db):
    return load_demo_project()


@pytest.fixture
def export(tmp_path):
    """export(project, profile="full") -> path of a fresh archive."""
    from dwca_port.export import export_project

    counter = iter(range(1000))

    def run(project, profile="full", **options):
        path = tmp_path / f"{profile}-{next(counter)}.zip"
        export_project(project, path, profile=profile, **options)
        return path

    return run
