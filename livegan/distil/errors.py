"""What can stop a distillation before it starts: one sentence each, exit code 2 in the CLI."""

from __future__ import annotations

from livegan.errors import LiveganError, ModelFileError


class DistilError(LiveganError):
    """A distillation cannot run as asked."""


class TeacherError(DistilError, ModelFileError):
    """The teacher cannot be opened or rendered."""


class StudentError(DistilError):
    """No student of the asked architecture can draw the teacher's frames."""


class ResumeError(DistilError):
    """A run folder holds another distillation (another teacher or student) than the one
    asked for, or none to resume."""
