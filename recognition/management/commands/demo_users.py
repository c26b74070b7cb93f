from django.core.management.base import BaseCommand

from recognition.services.users import demo_users_ensure


class Command(BaseCommand):
    help = "Create or reset the demo admin, reviewer and clerk accounts and print their passwords."

    def handle(self, *args, **options):
        for demo in demo_users_ensure():
            self.stdout.write(f"  {demo.role.value:<9} {demo.username} / {demo.password}")
