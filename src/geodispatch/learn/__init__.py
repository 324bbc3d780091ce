"""Learned models for the 311 day: triage, time to close and duplicate scoring.

Pure training and prediction code over pandas frames (scikit-learn pipelines); no storage,
settings or UI. Artefacts are written and read in ``geodispatch.io.model_store`` and
orchestrated in ``geodispatch.services.models``.
"""
