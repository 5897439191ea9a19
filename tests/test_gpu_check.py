"""benchmarks/gpu_check.sh, the GPU checks in one script, as far as a machine without GPU can check it: it parses,
stops at once and plainly without CUDA, and everything it calls exists with the flags it passes."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "gpu_check.sh"


def script() -> str:
    return SCRIPT.read_text(encoding="utf-8")


def test_the_script_parses_and_is_shellcheck_clean_where_shellcheck_exists():
    assert subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True).returncode == 0
    if shutil.which("shellcheck"):
        done = subprocess.run(["shellcheck", str(SCRIPT)], capture_output=True, text=True)
        assert done.returncode == 0, done.stdout


def test_without_cuda_it_stops_at_once_and_says_why(tmp_path):
    """This machine stands for any machine without a CUDA GPU."""
    done = subprocess.run(["bash", str(SCRIPT), str(tmp_path / "out")], capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable})
    assert done.returncode == 2
    assert "no CUDA GPU here (torch.cuda.is_available() is False): these checks need one." in done.stderr
    assert not (tmp_path / "out" / "doctor.log").exists()  # nothing was started


def _help(*verb: str) -> str:
    done = subprocess.run([sys.executable, "launch.py", *verb, "--help"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_commands_it_calls_take_the_flags_it_passes():
    text = script()
    function = re.search(r"^bench\(\) \{\n(.*?)^\}", text, re.S | re.M).group(1)
    calls = re.findall(r"^    bench .*$", text, re.M)
    bench_flags = set(re.findall(r"--[a-z-]+", function + "\n".join(calls)))
    assert {"--model", "--steps", "--rounds", "--max-length", "--json", "--batch-size", "--quantization"} <= bench_flags
    bench_help = _help("bench")
    assert all(flag in bench_help for flag in bench_flags), bench_flags
    assert "--runs-dir" in _help("train") and "launch.py doctor" in text
    from core.models import builtin, shapes, tiny

    models = set(re.findall(r"bench \S+ \d+ (\S+)", text))
    assert models == {"default", "qwen-0.5b", "llama-8b"} and {"qwen-0.5b", "llama-8b"} <= set(shapes.SHAPES)
    assert callable(builtin.is_ready) and callable(tiny.build)
    for test_file in re.findall(r"tests/\S+\.py", text):
        assert (ROOT / test_file).exists(), test_file


def _config(name: str, tmp_path):
    """The run config the script writes to $OUT/`name`.yaml."""
    from core.config import Config

    body = re.search(rf'"\$OUT/{name}\.yaml" <<EOF\n(.*?)\nEOF', script(), re.S).group(1)
    (tmp_path / f"{name}.yaml").write_text(body.replace("$OUT", str(tmp_path)), encoding="utf-8")
    return Config.from_yaml(tmp_path / f"{name}.yaml")


def test_its_ddp_config_is_a_valid_two_process_run(tmp_path):
    config = _config("ddp", tmp_path)
    assert (config.compute.strategy, config.compute.processes) == ("ddp", 2)
    assert config.train.max_steps == 10 and Path(config.data.path).exists()


def test_its_whole_run_is_a_qlora_run_then_eval_and_chat_with_flags_they_take(tmp_path):
    config = _config("train-qlora", tmp_path)
    assert config.model.quantization == "4bit" and config.data.replay > 0 and Path(config.data.path).exists()
    text = script()
    assert all(flag in _help("eval") for flag in ("--data", "--max-rows", "--pattern", "--json"))
    assert all(flag in _help("chat") for flag in ("--prompt", "--temperature"))
    assert re.search(r"launch\.py bench --generate --rounds 1 \\\n\s+--json", text)
    assert "--generate" in _help("bench")


@pytest.mark.parametrize("page", ["docs/gpus.md", "docs/speed-and-memory.md"])
def test_the_docs_point_at_the_script(page):
    assert "benchmarks/gpu_check.sh" in (ROOT / page).read_text(encoding="utf-8")
