from django.core.management.base import BaseCommand

from ami.main.demo import PROJECT_NAME, load_demo_project, summarize
from ami.main.models import Project


class Command(BaseCommand):
    help = "Build the demo project from the real Vermont light-trap export in fixtures/ and print a summary."

    def add_arguments(self, parser):
        parser.add_argument(
            "--replace", action="store_true", help="Delete an existing demo project (and its data) first."
        )

    def handle(self, *args, replace: bool = False, **options):
        existing = Project.objects.filter(name=PROJECT_NAME).first()
        if existing and not replace:
            self.stdout.write(f"The demo project already exists (id {existing.pk}); use --replace to rebuild it.")
            project = existing
        else:
            if existing:
                from ami.main.demo import delete_project_data

                delete_project_data(existing)
            project = load_demo_project()
            self.stdout.write(self.style.SUCCESS(f'Created the demo project "{project.name}" (id {project.pk}).'))
        for label, count in summarize(project).items():
            self.stdout.write(f"  {label:<28} {count:>6}")
