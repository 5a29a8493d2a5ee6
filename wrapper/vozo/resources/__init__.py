"""One module per API resource; each holds the sync class and its async twin."""

from vozo.resources.lipsync import AsyncLipsync, Lipsync
from vozo.resources.reusable_lipsync import AsyncReusableLipsync, ReusableLipsync
from vozo.resources.translations import AsyncTranslations, Translations

__all__ = ["AsyncLipsync", "AsyncReusableLipsync", "AsyncTranslations", "Lipsync", "ReusableLipsync", "Translations"]
