"""How a run's process is started: one process, or several through `accelerate launch`, on exactly its GPUs.

The command is the same entry point either way (core.training.worker); several processes differ only in being
started by accelerate with a generated config, saved in the run folder as accelerate.yaml together with the exact
command that runs the same training on N machines. The process sees only the run's GPUs (CUDA_VISIBLE_DEVICES),
writes its output into train.log, and is killed by the kernel if the studio dies (see worker.die_with_parent).

`python -m core.training.launch ARGS` is `accelerate launch ARGS` that also dies with the studio: the studio
starts several processes through it; on other machines plain `accelerate launch` does the same.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import yaml

from core.config import Config
from core.models.compute import ComputePlan
from core.models.devices import RUN_GPUS_ENV
from core.runs import Run, write_text_atomic
from core.training.worker import PARENT_ENV, die_with_parent

APP_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_PORT = 29500  # accelerate's default rendezvous port, for the command on several machines


def worker_arguments(run: Run, plan: ComputePlan, resume_from: str | None = None, shown=str) -> list[str]:
    args = ["-m", "core.training.worker", shown(run.path), "--strategy", plan.strategy]
    return args + (["--resume", shown(resume_from)] if resume_from else [])


def _shown(path) -> str:
    """A path as the command for other machines shows it: relative to the folder the studio runs in (runs/NAME),
    so it works wherever that folder is on the other machine; relative data paths in config.yaml mean the same."""
    path = Path(path).resolve()
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def command(run: Run, plan: ComputePlan, resume_from: str | None = None) -> list[str]:
    """The run's command line in this studio: python, or accelerate launch with the run's accelerate.yaml."""
    if plan.processes == 1:
        return [sys.executable] + worker_arguments(run, plan, resume_from)
    return [sys.executable, "-m", "core.training.launch", "--config_file", str(run.accelerate_file)] + \
        worker_arguments(run, plan, resume_from)


# torch's CPU threads (GNU OpenMP) spin while they wait for each other by default. When the CPU is shared (the
# studio's page answering a chat while a run trains, two processes of a test, anything else on a 2-core machine) the
# spinning threads take the cores the others need: one decode step of 8 rows took 12 s instead of 0.7 s, a prefill
# of one row 10 s instead of 0.6 s (SmolLM2-135M, float32, 2 threads, load average 12). Waiting threads that sleep
# cost a few percent on an idle machine. Set before torch is imported (the library reads it once); a value the user
# set is kept.
WAIT_POLICY, PASSIVE = "OMP_WAIT_POLICY", "PASSIVE"


def environment(plan: ComputePlan) -> dict[str, str]:
    """This process's environment, narrowed to the run's GPUs ('' hides them all: a CPU run never touches one)."""
    env = dict(os.environ)
    env["CUDA_VISIBLE_DEVICES"] = plan.visible_devices
    env["CUDA_DEVICE_ORDER"] = "PCI_BUS_ID"  # GPU numbers as nvidia-smi shows them
    env[RUN_GPUS_ENV] = ",".join(map(str, plan.gpus))
    env[PARENT_ENV] = str(os.getpid())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(APP_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"  # log lines reach train.log as they are written
    env.setdefault(WAIT_POLICY, PASSIVE)
    return env


def start(run: Run, plan: ComputePlan, resume_from: str | None = None) -> subprocess.Popen:
    """Start the run's process(es), output appended to train.log."""
    if plan.processes > 1:
        write_accelerate_file(run, plan, Config.from_yaml(run.config_file))
    return spawn(command(run, plan, resume_from), plan, run.log_file)


def spawn(arguments: list[str], plan: ComputePlan, log_file: Path) -> subprocess.Popen:
    """A process on the plan's GPUs, output appended to `log_file`, in a session of its own (so Ctrl-C in a
    terminal reaches the studio, which turns it into a Stop, and an abort can end all its processes at once)."""
    if arguments[0] == "-m":
        arguments = [sys.executable] + arguments
    with open(log_file, "ab") as log:  # in this folder, so relative paths in the config mean what they mean here
        return subprocess.Popen(arguments, env=environment(plan), stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def accelerate_config(plan: ComputePlan, config: Config, port: int) -> dict:
    """accelerate's config for the plan, with the settings peft's FSDP and DeepSpeed guides use."""
    settings = {
        "compute_environment": "LOCAL_MACHINE",
        # MULTI_GPU also on the CPU: accelerate starts it with torchrun, and each process then joins with gloo
        # (its MULTI_CPU type would need mpirun).
        "distributed_type": "MULTI_GPU",
        "num_machines": 1,
        "machine_rank": 0,
        "num_processes": plan.processes,
        "gpu_ids": "all",  # the run's process already sees only its GPUs
        "main_training_function": "main",
        "mixed_precision": "no",  # the trainer's bf16/fp16 settings decide, as in one process
        "downcast_bf16": "no",
        "rdzv_backend": "static",
        "same_network": True,
        "main_process_ip": "127.0.0.1",
        "main_process_port": port,
        "use_cpu": not plan.uses_gpu,
        "debug": False,
    }
    if plan.strategy == "fsdp":
        settings["distributed_type"] = "FSDP"
        settings["fsdp_config"] = {
            "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP", "fsdp_backward_prefetch": "BACKWARD_PRE",
            "fsdp_cpu_ram_efficient_loading": True, "fsdp_forward_prefetch": False, "fsdp_offload_params": False,
            "fsdp_sharding_strategy": "FULL_SHARD", "fsdp_state_dict_type": "SHARDED_STATE_DICT",
            "fsdp_sync_module_states": True, "fsdp_use_orig_params": False}
    elif plan.strategy.startswith("deepspeed"):
        settings["distributed_type"] = "DEEPSPEED"
        settings["deepspeed_config"] = {
            "zero_stage": 3 if plan.strategy.endswith("3") else 2, "deepspeed_multinode_launcher": "standard",
            "offload_optimizer_device": "none", "offload_param_device": "none",
            "gradient_accumulation_steps": config.train.grad_accum, "gradient_clipping": config.train.max_grad_norm,
            # ZeRO-3 partitions the weights as they load (zero.Init), not one whole copy per rank in host RAM.
            "zero3_init_flag": plan.strategy == "deepspeed_zero3", "zero3_save_16bit_model": True}
    return settings


def machines_command(run: Run, plan: ComputePlan, machines: str = "N") -> str:
    """The command that runs this training on several machines, one line to run on each."""
    total = f"<{machines} x GPUs per machine>" if plan.uses_gpu else f"<{machines} x processes per machine>"
    project = f"PYTHONPATH={APP_ROOT} " if Path.cwd().resolve() != APP_ROOT else ""  # where `core` is found
    return (f"{project}accelerate launch --config_file {_shown(run.accelerate_file)} --num_machines {machines} "
            f"--num_processes "
            f"{total} --machine_rank <0 on the first machine, 1, 2 ... on the others> --main_process_ip <address "
            f"of the first machine> --main_process_port {DEFAULT_PORT} "
            + " ".join(worker_arguments(run, plan, shown=_shown)))


def write_accelerate_file(run: Run, plan: ComputePlan, config: Config) -> Path:
    """accelerate.yaml for this machine (a free port picked now), headed by the command for N machines."""
    header = [
        f"# accelerate config for run {run.name}: {plan.summary()} ({plan.reason}).",
        "# The studio ran this machine's processes with it. To train the same run on several machines, put the",
        "# project, this run folder and its data on each (or on a shared disk), then on every one run, in the folder",
        f"# the studio ran in ({Path.cwd()}):",
        f"#   {machines_command(run, plan)}",
        "# Each machine starts one process per GPU it has; only the first machine's rank 0 writes the run folder.",
        "# To continue a stopped run, add --resume runs/<name>/checkpoints/checkpoint-<step> on every machine.",
    ]
    body = yaml.safe_dump(accelerate_config(plan, config, free_port()), sort_keys=False)
    write_text_atomic(run.accelerate_file, "\n".join(header) + "\n" + body)
    return run.accelerate_file


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def accelerate_main(argv: list[str]) -> int:
    """`accelerate launch ARGV` in this process, which dies with the studio (its workers die with it in turn)."""
    die_with_parent()
    os.environ[PARENT_ENV] = str(os.getpid())  # the workers' parent is this launcher
    from accelerate.commands.launch import launch_command, launch_command_parser

    launch_command(launch_command_parser().parse_args(argv))
    return 0


if __name__ == "__main__":
    sys.exit(accelerate_main(sys.argv[1:]))
