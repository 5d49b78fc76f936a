"""A sample MLOps pipeline that trains a model with NVIDIA FLARE: what a team's own package looks like."""

from .pipeline import PipelineConfig, PipelineError, PipelineResult, run_training

__all__ = ["PipelineConfig", "PipelineError", "PipelineResult", "run_training"]
