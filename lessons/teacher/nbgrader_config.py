"""nbgrader's configuration for the cnnlab course (this folder is an nbgrader course directory).

The lessons' source notebooks are in source/<lesson>/<lesson>.ipynb, made by
lessons/_source/build.py. From this folder:

    nbgrader generate_assignment 04_channels_filters_parameters   # -> release/04_.../
    nbgrader autograde 04_channels_filters_parameters             # submitted/<student>/04_.../

Each exercise is an answer cell (``answer_k = None``, the worked solution between
``### BEGIN SOLUTION`` and ``### END SOLUTION``) and a check cell worth one point whose hidden
test (``assert_answer``) raises unless the answer is right.
"""
c = get_config()  # noqa: F821 (nbgrader provides it)

# The solution region is removed and nothing put in its place: the answer cell keeps its
# ``answer_k = None`` line, so the student's notebook is the one lessons/ ships.
c.ClearSolutions.code_stub = {"python": ""}

# Lessons 09, 11 and 14 train networks: a cell may take minutes on a slow machine.
c.Execute.timeout = 1800
