"""recipes/shipped_model/average.py: the averaged model is the element-wise mean of the checkpoints' weights."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import require_module
from shipped_model_cases import REPO

torch = require_module("torch")


def load_average_module():
    spec = importlib.util.spec_from_file_location("average", REPO / "recipes" / "shipped_model" / "average.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_checkpoint(path, **tensors):
    torch.save({"state_dict": tensors, "global_step": 0}, path)
    return path


def test_mean_of_the_checkpoints_weights(tmp_path):
    average = load_average_module()
    a = write_checkpoint(tmp_path / "a.ckpt", w=torch.tensor([1.0, 2.0]), b=torch.tensor([[0.5]]))
    b = write_checkpoint(tmp_path / "b.ckpt", w=torch.tensor([3.0, -2.0]), b=torch.tensor([[1.5]]))
    c = write_checkpoint(tmp_path / "c.ckpt", w=torch.tensor([2.0, 3.0]), b=torch.tensor([[4.0]]))
    mean = average.average_state_dicts([a, b, c])
    assert torch.equal(mean["w"], torch.tensor([2.0, 1.0]))
    assert torch.equal(mean["b"], torch.tensor([[2.0]]))
    assert mean["w"].dtype == torch.float32


def test_checkpoints_of_different_models_are_refused(tmp_path):
    average = load_average_module()
    a = write_checkpoint(tmp_path / "a.ckpt", w=torch.zeros(2))
    b = write_checkpoint(tmp_path / "b.ckpt", v=torch.zeros(2))
    with pytest.raises(SystemExit, match="other tensors"):
        average.average_state_dicts([a, b])
    c = write_checkpoint(tmp_path / "c.ckpt", w=torch.zeros(3))
    with pytest.raises(SystemExit, match="has shape"):
        average.average_state_dicts([a, c])


def test_integer_tensors_are_refused(tmp_path):
    average = load_average_module()
    a = write_checkpoint(tmp_path / "a.ckpt", steps=torch.tensor([3]))
    with pytest.raises(SystemExit, match="not a float tensor"):
        average.average_state_dicts([a])
