from pathlib import Path

from django.core.management.base import BaseCommand

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def printed_schema() -> str:
    from schema.schema import schema

    return schema.as_str() + "\n"


class Command(BaseCommand):
    help = "Write the printed GraphQL schema to schema/schema.graphql (or --check that it is current)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Exit 1 when the committed file is stale.")

    def handle(self, *args, check: bool = False, **options):
        text = printed_schema()
        if check:
            if not SCHEMA_FILE.exists() or SCHEMA_FILE.read_text() != text:
                self.stderr.write("schema/schema.graphql is stale: run `python manage.py graphql_schema`.")
                raise SystemExit(1)
            self.stdout.write("schema/schema.graphql is current.")
            return
        SCHEMA_FILE.write_text(text)
        self.stdout.write(f"wrote {SCHEMA_FILE}")
