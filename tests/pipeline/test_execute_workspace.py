"""What the host-process strategy reads off the app's commands."""

import pytest

from dockyard.pipeline.execute_workspace import calls_pip


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("pip install -e .", True),
        ("python -m pip install -r extra.txt && python manage.py migrate", True),
        ("pip3 install gunicorn", True),
        ("pipenv run gunicorn app:app", False),
        ("pip-compile requirements.in", False),
        ("python -m uvicorn main:app --port $PORT", False),
        (None, False),
    ],
)
def test_the_commands_that_call_pip_get_it_seeded(command: str | None, expected: bool) -> None:
    assert calls_pip(None, command) is expected
