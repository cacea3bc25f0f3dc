"""Run ``app.training.train`` where Flask is not installed (the GPU machine): ``app`` becomes a
bare namespace package, so that ``app/__init__.py`` (the Flask factory) is never imported."""

import runpy
import sys
import types
from pathlib import Path

root = Path(__file__).resolve().parents[2]
package = types.ModuleType("app")
package.__path__ = [str(root / "app")]
sys.modules["app"] = package
sys.argv = ["train", *sys.argv[1:]]
runpy.run_module("app.training.train", run_name="__main__")
