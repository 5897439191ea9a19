"""Messages of core/training: a run's progress and what went wrong in it."""

TEXTS: dict[str, tuple[str, str]] = {
    # the run's status line, as status.json and the Train tab show it
    "training.steps.reading": ("Reading the dataset ...", "正在读取数据集……"),
    "training.steps.loading_model": ("Loading the base model ...", "正在加载基础模型……"),
    "training.sft.writing_replay": (
        "Writing {count} knowledge-replay answers with the base model ...",
        "正在用基础模型写 {count} 条知识回放回答……"),
    "training.replay.writing": (
        "Writing knowledge-replay answers with the base model: {done} of {asked} ...",
        "正在用基础模型写知识回放回答：已完成 {done} / {asked} 条……"),
    "training.callbacks.training": ("Training: {steps} steps.", "训练：共 {steps} 步。"),
    "training.callbacks.stopping": ("Stopping after step {step} ...", "将在第 {step} 步后停止……"),
    "training.worker.completed": ("Completed {steps} steps; {saved} saved.", "已完成 {steps} 步；{saved}已保存。"),
    "training.worker.stopped": ("Stopped at step {step}; {saved} saved.", "已在第 {step} 步停止；{saved}已保存。"),
    # also said by core/jobs.py, for a run stopped before its process started
    "training.worker.stopped_before_first_step": (
        "Stopped before the first step finished; nothing was saved.",
        "在第一步完成前就停止了；没有保存任何内容。"),
    "training.worker.stopped_during_replay": (
        "Stopped before the first step, while the base model wrote its knowledge-replay answers: the {done} of "
        "{asked} it finished are kept, and Resume asks only the rest.",
        "在第一步之前、基础模型写知识回放回答时停止了：已写完的 {done}/{asked} 条回答已保留，“继续”只会补写其余的。"),
    "training.worker.adapter": ("adapter", "适配器"),
    "training.worker.model": ("model", "模型"),
    # why a run failed
    "training.failures.gpu_out_of_memory": (
        "The GPU ran out of memory. Try a smaller batch size (with more gradient accumulation), a shorter max "
        "length, 4-bit quantization, or turn gradient checkpointing on.",
        "GPU 显存不足。请减小批大小（同时增加梯度累积）、缩短最大长度、使用 4 位量化，或打开梯度检查点。"),
    "training.failures.machine_out_of_memory": (
        "The machine ran out of memory. Try a smaller batch size (with more gradient accumulation), a shorter max "
        "length, 4-bit quantization, or turn gradient checkpointing on.",
        "本机内存不足。请减小批大小（同时增加梯度累积）、缩短最大长度、使用 4 位量化，或打开梯度检查点。"),
    "training.failures.disk_full": (
        "The disk is full. Free some space, then resume the run: it continues from its last complete checkpoint.",
        "磁盘已满。请腾出一些空间，然后继续这次运行：它会从最近一个完整的检查点接着训练。"),
    "training.failures.disk_full_writing": (
        "The disk is full while writing {path}. Free some space, then resume the run: it continues from its last "
        "complete checkpoint.",
        "写入 {path} 时磁盘已满。请腾出一些空间，然后继续这次运行：它会从最近一个完整的检查点接着训练。"),
    "training.failures.unexpected": ("{error}: {text} (details in train.log)", "{error}：{text}（详情见 train.log）"),
    "training.failures.killed": (
        "The training process was killed (SIGKILL): by hand, or by the system when the machine ran out of memory "
        "(RAM).",
        "训练进程被终止（SIGKILL）：可能是手动终止的，也可能是本机内存（RAM）不足时被系统终止的。"),
    "training.failures.crashed": (
        "The training process crashed ({signal}), inside a library (a driver, CUDA or bitsandbytes fault); "
        "`python launch.py doctor` checks this machine's GPU stack.",
        "训练进程在某个库内部崩溃了（{signal}，驱动、CUDA 或 bitsandbytes 的故障）；"
        "`python launch.py doctor` 可以检查本机的 GPU 环境。"),
    "training.failures.signalled": (
        "The training process was stopped by {signal}.", "训练进程被 {signal} 停止了。"),
    "training.failures.exit_code": (
        "The training process ended with exit code {code} before reporting how the run went.",
        "训练进程还没报告运行结果就退出了，退出码为 {code}。"),
    "training.failures.log_tail": (" Last lines of train.log: {lines}", "train.log 的最后几行：{lines}。"),
    "training.failures.process_death": (
        "{what}{tail} The run can be resumed from its last complete checkpoint.",
        "{what}{tail}这次运行可以从最近一个完整的检查点继续。"),
    # settings a run cannot train with
    "training.speed.flash_attention_needs_gpu": (
        "train.attention 'flash_attention_2' needs a CUDA GPU and the flash-attn package (pip install flash-attn); "
        "choose 'auto' or 'sdpa'.",
        "train.attention 'flash_attention_2' 需要 CUDA GPU 和 flash-attn 包（pip install flash-attn）；"
        "请选择 'auto' 或 'sdpa'。"),
    "training.speed.flash_attention_needs_ampere": (
        "train.attention 'flash_attention_2' needs an Ampere or newer GPU (compute capability 8.0+); this run's GPU "
        "has {capability}. Choose 'auto' or 'sdpa'.",
        "train.attention 'flash_attention_2' 需要 Ampere 或更新的 GPU（计算能力 8.0 以上）；这次运行的 GPU 为 "
        "{capability}。请选择 'auto' 或 'sdpa'。"),
    "training.speed.flash_attention_broken": (
        "train.attention 'flash_attention_2': flash-attn is installed but does not load ({error}), usually a wheel "
        "built for another torch; reinstall it (pip install flash-attn --no-build-isolation) or choose 'auto' or "
        "'sdpa'.",
        "train.attention 'flash_attention_2'：已安装 flash-attn，但无法加载（{error}），通常是为另一个 torch 版本"
        "编译的安装包；请重新安装（pip install flash-attn --no-build-isolation），或选择 'auto' 或 'sdpa'。"),
    "training.speed.flash_attention_needs_half": (
        "train.attention 'flash_attention_2' computes only in float16 and bfloat16, and model.dtype is float32; "
        "set model.dtype to 'auto' or choose 'auto' or 'sdpa' for train.attention.",
        "train.attention 'flash_attention_2' 只能以 float16 和 bfloat16 计算，而 model.dtype 为 float32；"
        "请把 model.dtype 设为 'auto'，或把 train.attention 设为 'auto' 或 'sdpa'。"),
    "training.speed.packing_needs_padding_free": (
        "train.packing needs padding-free batches to keep packed examples apart; set train.padding_free to 'auto' "
        "or 'on', or turn packing off.",
        "train.packing 需要无填充批次，才能把打包在一起的样本分开；请把 train.padding_free 设为 'auto' 或 'on'，"
        "或关闭打包。"),
    "training.speed.padding_free_needs_attention": (
        "train.padding_free 'on' needs an attention that keeps examples apart ({safe}); train.attention is "
        "'{attention}'.",
        "train.padding_free 'on' 需要能把样本彼此分开的注意力实现（{safe}）；train.attention 当前为 '{attention}'。"),
    "training.speed.liger_not_installed": (
        "train.liger_kernel 'on' needs the liger-kernel package (pip install liger-kernel, GPU only); set it to "
        "'auto' or 'off'.",
        "train.liger_kernel 'on' 需要 liger-kernel 包（pip install liger-kernel，仅限 GPU）；请设为 'auto' 或 'off'。"),
    "training.speed.liger_needs_gpu": (
        "train.liger_kernel 'on' needs a GPU (its kernels are written in Triton); set it to 'auto' or 'off'.",
        "train.liger_kernel 'on' 需要 GPU（它的内核用 Triton 编写）；请设为 'auto' 或 'off'。"),
    "training.tuning.freeze_needs_layers": (
        "train.tuning 'freeze' needs a model whose decoder layers are named layers.N; this one's are not. Choose "
        "tuning 'lora' or 'full'.",
        "train.tuning 'freeze' 需要解码器层命名为 layers.N 的模型；这个模型不是。请选择 'lora' 或 'full' 微调。"),
    "training.tuning.freeze_too_many_layers": (
        "train.freeze_trainable_layers is {count}, but the model has {layers} layers; choose at most {layers} (or "
        "tuning 'full').",
        "train.freeze_trainable_layers 为 {count}，但模型只有 {layers} 层；"
        "请最多选 {layers} 层（或使用 'full' 微调）。"),
    # rewards.py
    "training.rewards.bad_answer_pattern": ("train.answer_pattern: {reason}", "train.answer_pattern：{reason}"),
    "training.rewards.bad_format": (
        "train.format_pattern {pattern!r} is neither answer_is, think_then_answer nor a valid regular expression "
        "({error}).",
        "train.format_pattern {pattern!r} 既不是 answer_is、think_then_answer，也不是有效的正则表达式（{error}）。"),
    "training.rewards.pattern_misses": (
        "The answer pattern {pattern!r} (train.answer_pattern) finds no answer in any of the {count} reference "
        "answers of {path} (the first: {example!r}), so no sampled answer could ever count as right. Change the "
        "pattern to one that finds the answer in your references, or end each reference with \"The answer is X\".",
        "答案提取模式 {pattern!r}（train.answer_pattern）在 {path} 的 {count} 个参考答案中一个答案也找不到"
        "（第一个：{example!r}），"
        "因此任何采样回答都不可能被判为正确。请把模式改成能在参考答案中找到答案的样子，或在每个参考答案末尾写上"
        "“答案是：X”。"),
    "training.rewards.no_file": (
        "train.reward_file {path} does not exist; give the path of a .py file, or leave it empty.",
        "train.reward_file {path} 不存在；请填写一个 .py 文件的路径，或留空。"),
    "training.rewards.code_off": (
        "train.reward_file {path} is Python code, which runs only when you turn on 'Run code from the reward file' "
        "(train.run_reward_code: true). Turn it on only for a file you wrote or trust.",
        "train.reward_file {path} 是 Python 代码，只有打开「运行奖励文件中的代码」（train.run_reward_code: true）"
        "才会运行。请只对自己写的或信任的文件打开。"),
    "training.rewards.no_function": (
        "{path} has no function named reward; define reward(completions, references, **kwargs) returning one number "
        "per completion.",
        "{path} 中没有名为 reward 的函数；请定义 reward(completions, references, **kwargs)，为每个回答返回一个数。"),
    "training.rewards.file_failed": ("The reward file {path} failed: {error}", "奖励文件 {path} 出错：{error}"),
    "training.rewards.file_count": (
        "The reward function of {path} returned {got} numbers for {expected} completions; return one per completion.",
        "{path} 的奖励函数为 {expected} 个回答返回了 {got} 个数；请为每个回答返回一个。"),
    "training.kto.batch_too_small": (
        "train.method kto needs train.batch_size 2 or more: it estimates its reference term from the other answers "
        "of the same batch. Raise the batch size (and lower the gradient accumulation).",
        "train.method kto 需要 train.batch_size 至少为 2：它用同一批次里的其他回答来估计参考项。"
        "请增大批大小（并相应减小梯度累积）。"),
    "training.token_sets.no_training_rows": (
        "No training rows are left after cutting to max_length {max_length}; raise max_length.",
        "截断到 max_length {max_length} 后，没有剩下可用的训练数据行；请增大 max_length。"),
    "training.token_sets.no_held_out_rows": (
        "No held-out rows are left after cutting to max_length {max_length}; raise max_length.",
        "截断到 max_length {max_length} 后，没有剩下可用的验证集数据行；请增大 max_length。"),
    "training.trackers.not_installed": (
        "train.report_to is '{tracker}', but the {package} package is not installed: pip install {package}, or set "
        "train.report_to to 'none'.",
        "train.report_to 为 '{tracker}'，但没有安装 {package} 包：请运行 pip install {package}，"
        "或把 train.report_to 设为 'none'。"),
    # the best step's adapter (Train tab)
    "training.probes.no_best_adapter": (
        "{path} holds no adapter: this run saved none at its best step (runs trained before this feature, or "
        "without held-out rows).",
        "{path} 中没有适配器：这次运行没有在最佳步保存适配器（这个功能推出之前训练的运行，或没有验证集的运行）。"),
    "training.probes.using_best": (
        "The run now uses the adapter from step {step} (held-out loss {loss:.4f}).",
        "这次运行现在使用第 {step} 步的适配器（留出集损失 {loss:.4f}）。"),
}
