from enum import StrEnum


class ReferenceFileType(StrEnum):
    IMAGE = "image"
    VIDEO = "video"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "ReferenceFileType | None":
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
