from enum import StrEnum


class MediaTranslateJobStatusStatus(StrEnum):
    """One of the values the spec lists, or one Vozo added since: a pseudo-member named ``UNKNOWN`` whose value is
    the raw one. Branch on the listed members (``is``; ``match`` with a ``case _:``) and compare ``str(member)``
    with a value not listed (``str(member) == "reviewing"``): type checkers take ``.value`` and ``.name`` to be
    listed ones, and call a comparison of them with another value always false."""

    DONE = "done"
    DUBBING = "dubbing"
    FAILED = "failed"
    PREPROCESSING = "preprocessing"
    QUEUING = "queuing"
    RENDERING = "rendering"
    TRANSCRIBING = "transcribing"
    TRANSLATING = "translating"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "MediaTranslateJobStatusStatus | None":
        """Accept a value Vozo added after this client was generated, instead of failing to parse.

        The value becomes a pseudo-member: ``.value`` is the raw string, ``.name`` is ``"UNKNOWN"``, and it is not
        listed by iteration. Compare against the known members to branch on it.
        """
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = "UNKNOWN"
        member._value_ = value
        return member
