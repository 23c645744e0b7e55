"""Build hook: the lessons ride in the wheel as ``cnnlab/lessons``.

The repository keeps one source of truth for the lessons, the top-level ``lessons/`` folder a
reader of the repository sees (built from ``lessons/_source`` and committed without outputs).
A wheel install has no repository next to it, so ``build_py`` copies the notebooks and their
README into the built package; ``cnnlab lab`` looks there first, then (editable install) at
the repository's ``lessons/``. Copying at build time rather than moving the lessons under
``cnnlab/`` keeps them where learners and the lesson tests look, with no second copy in git.
Everything else about the package is declared in pyproject.toml.
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
LESSONS = ROOT / "lessons"


def lesson_files():
    """The files a learner gets: numbered notebooks and the README (not _source/)."""
    return sorted(LESSONS.glob("[0-9][0-9]_*.ipynb")) + [LESSONS / "README.md"]


class BuildPyWithLessons(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return      # an editable install reads the repository's lessons/ directly
        files = lesson_files()
        if not files[:-1]:
            raise SystemExit(f"setup.py: no lessons found in {LESSONS}")
        target = Path(self.build_lib) / "cnnlab" / "lessons"
        self.mkpath(str(target))
        for path in files:
            self.copy_file(str(path), str(target / path.name))

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        target = Path(self.build_lib) / "cnnlab" / "lessons"
        return outputs + [str(target / p.name) for p in lesson_files()]


setup(cmdclass={"build_py": BuildPyWithLessons})
