import time

from django.core.management.base import BaseCommand, CommandError

from ami.main.synthetic import SyntheticSpec, seed_synthetic_project


class Command(BaseCommand):
    help = "Create a synthetic project of any size (set-based inserts), for benchmarks and scale tests."

    def add_arguments(self, parser):
        parser.add_argument("--images", type=int, default=1000, help="Source images (default 1000).")
        parser.add_argument(
            "--detections-per-image",
            type=float,
            default=1.0,
            help="Detections per image, may be fractional (default 1).",
        )
        parser.add_argument("--classifications-per-detection", type=int, default=1, help="Default 1.")
        parser.add_argument(
            "--occurrences", type=int, default=None, help="Occurrences (default: one per 6 detections)."
        )
        parser.add_argument("--identifications", type=int, default=0, help="Human identifications (default 0).")
        parser.add_argument("--deployments", type=int, default=2, help="Stations (default 2).")
        parser.add_argument("--nights", type=int, default=10, help="Capture sessions per station (default 10).")
        parser.add_argument("--taxa", type=int, default=200, help="Species (default 200).")
        parser.add_argument("--name", default="Synthetic project", help="Project name.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")

    def handle(self, *args, **o):
        for option in ("images", "deployments", "nights", "taxa", "classifications_per_detection", "identifications"):
            if o[option] < 0:
                raise CommandError(f"--{option.replace('_', '-')} must not be negative (got {o[option]})")
        if o["deployments"] < 1 or o["nights"] < 1 or o["taxa"] < 1:
            raise CommandError("--deployments, --nights and --taxa must be at least 1")
        if o["detections_per_image"] < 0:
            raise CommandError("--detections-per-image must not be negative")
        if o["occurrences"] is not None and o["occurrences"] < 0:
            raise CommandError("--occurrences must not be negative")
        spec = SyntheticSpec(
            images=o["images"],
            detections_per_image=o["detections_per_image"],
            classifications_per_detection=o["classifications_per_detection"],
            occurrences=o["occurrences"],
            identifications=o["identifications"],
            deployments=o["deployments"],
            nights_per_deployment=o["nights"],
            taxa=o["taxa"],
            name=o["name"],
            seed=o["seed"],
        )
        started = time.monotonic()
        project = seed_synthetic_project(spec, progress=self.stderr)
        self.stdout.write(
            f'Created synthetic project "{project.name}" (id {project.pk}) with {spec.images:,} source images '
            f"in {time.monotonic() - started:.1f} s."
        )
