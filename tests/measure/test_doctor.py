"""`launch.py doctor` on this machine, which has no GPU: it says which checks it skipped and why, and still
trains (LoRA and QLoRA, each in a run's own process) and chats on the CPU."""

import pytest

from core import cli
from core.catalogue.language import speaking
from core.catalogue.message import message, text_of
from core.measure.doctor import Check


@pytest.mark.slow
def test_doctor_without_a_gpu_names_what_it_skipped_and_trains_on_the_cpu(capsys):
    assert cli.doctor() == 0
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
