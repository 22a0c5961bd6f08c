"""The fixed lists therapists choose from. One spelling each, because search filters match them exactly."""

from __future__ import annotations

ONCOLOGY_MODALITY = "Oncology massage"
MODALITIES: tuple[str, ...] = (
    ONCOLOGY_MODALITY,
    "Swedish massage",
    "Manual lymphatic drainage",
    "Myofascial release",
    "Reflexology",
    "Deep tissue",
    "Hospice and palliative massage",
    "Craniosacral therapy",
    "Trigger point therapy",
)

PRIMARY_LANGUAGE = "English"
LANGUAGES: tuple[str, ...] = (
    PRIMARY_LANGUAGE,
    "Spanish",
    "Chinese",
    "Vietnamese",
    "Korean",
    "Tagalog",
    "Russian",
    "Arabic",
    "French",
    "Portuguese",
    "Haitian Creole",
    "German",
)
