"""Export of NeMo checkpoints to nemo_fast model directories (needs torch, NeMo and onnx)."""

from nemo_fast.export import exporter
from nemo_fast.export.exporter import ExportParityError, export_model

__all__ = ["ExportParityError", "export_model", "exporter"]
