"""`launch.py doctor` on this machine, which has no GPU: it says which checks it skipped and why, and still
trains (LoRA and QLoRA, each in a run's own process) and chats on the CPU."""

import pytest

from core.cli import measure as cli_measure
from core.catalogue.language import speaking
from core.catalogue.message import message, text_of
from core.measure.doctor import Check


@pytest.mark.slow
def test_doctor_without_a_gpu_names_what_it_skipped_and_trains_on_the_cpu(capsys):
    assert cli_measure.doctor() == 0
    out = capsys.readouterr().out
    lines = {line.split(":")[0]: line for line in out.splitlines() if line.startswith("[")}
    assert lines["[ok]   torch"].startswith("[ok]   torch: 2.")
    assert "no NVIDIA GPU or driver found" in lines["[skip] CUDA"]
    assert "[skip] GPUs" in lines and "[skip] bfloat16 on GPU" in lines
    assert "the 4-bit matmul on CUDA needs a GPU" in lines["[skip] bitsandbytes"]
    assert "[skip] flash-attention" in lines or "[ok]   flash-attention" in lines
    assert lines["[ok]   LoRA steps on the CPU"].startswith("[ok]   LoRA steps on the CPU: 3 steps in ")
    assert lines["[ok]   QLoRA steps on the CPU"].startswith("[ok]   QLoRA steps on the CPU: 3 steps in ")
    assert "Paris" in lines["[ok]   chat reply"] and "on cpu" in lines["[ok]   chat reply"]
    assert "0 failed" in out.splitlines()[-1]


def test_a_check_line_is_english_for_the_terminal_and_chinese_for_the_page():
    check = Check(message("measure.doctor.steps_on", label="LoRA", where=message("measure.doctor.the_cpu")), "failed",
                  message("measure.doctor.no_result"), message("measure.doctor.no_log"))
    assert str(check.line()) == "[FAIL] LoRA steps on the CPU: no result -> the run wrote no log"
    with speaking("zh"):
        assert text_of(check.line()) == "[FAIL] LoRA 训练步（CPU）：没有结果 -> 该运行没有写日志"


def test_doctor_imports_flash_attn_and_fails_a_wheel_built_for_another_torch(tmp_path, monkeypatch):
    """Stands for an H100 with a flash-attn wheel built against another torch (an ABI mismatch): doctor looked the
    package up without importing its compiled module and said [ok], and the run failed at its first forward with
    'undefined symbol'. Doctor now imports it, fails the line with the library's words, and says the fix."""
    from core.measure import doctor
    from core.models.devices import Gpu, Inventory
    from tests.training.test_gpu_paths import install_broken_flash_attn

    install_broken_flash_attn(tmp_path, monkeypatch)
    inv = Inventory(gpus=[Gpu(0, "NVIDIA H100", 80.0, 79.0, True, (9, 0))])
    check = doctor.attention_checks(inv)[0]
    line = str(check.line())
    assert check.status == "failed" and line.startswith("[FAIL] flash-attention: installed, but it does not load")
    assert "undefined symbol" in line and "pip install --force-reinstall flash-attn" in line
    with speaking("zh"):
        assert "无法加载" in text_of(check.line())


def test_each_check_comes_as_it_is_found_not_after_the_slow_ones():
    """The Model tab's doctor answered only after every check (100 s on a CPU: two training runs and the built-in
    model's reply) behind a plain button. The checks now come one at a time: the first is there before any training
    step has started."""
    import time

    from core.measure.doctor import each_check

    started = time.monotonic()
    checks = each_check(training=True)
    first = next(checks)
    checks.close()  # the training steps and the chat reply never ran
    assert str(first.line()).startswith("[ok]   torch: 2.") and time.monotonic() - started < 10
