"""The base of every failure the pipeline reports to users as one line rather than a traceback."""


class PipelineError(Exception):
    """Bad input or a failed step, with a message that says what and how to fix it."""
