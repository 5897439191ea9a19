"""Simplified Chinese labels and help texts for every option in core/config.py (English lives there)."""

OPTION_TEXT_ZH: dict[str, tuple[str, str]] = {
    # ---- Config ------------------------------------------------------------------------------------------------
    "name": ("运行名称", "本次运行的名称；其文件夹为 runs/<name>。"),

    # ---- ModelConfig -------------------------------------------------------------------------------------------
    "model.source": (
        "基础模型",
        "要微调的基础模型：'default'（内置的 SmolLM2-135M-Instruct）、'gemma-3-270m'（内置的预训练 Gemma 3 270M，"
        "多语言）、本地模型文件夹，或 Hugging Face Hub 上的模型 ID。"),
    "model.system_prompt": (
        "系统提示词",
        "所有没有自带系统提示词的对话所用的系统提示词，训练、对话、评估和导出都一样：'none' 表示不用系统提示词"
        "（有些模板会自己加一段，例如 SmolLM2 和 Qwen2.5 的“You are ... named SmolLM”，会与新的身份相矛盾），"
        "'template' 表示沿用模型对话模板自带的内容，也可以填写你自己的文字。"),
    "model.quantization": (
        "量化",
        "以 8 位或 4 位（QLoRA）加载冻结的基础权重以节省显存；需要 bitsandbytes。"
        "'none' 保持全精度，训练最快。"),
    "model.device_map": (
        "设备分配",
        "模型各层放在哪里：'auto' 先占满 GPU 再用 CPU，'balanced' 在各 GPU 间平均分配，"
        "'balanced_low_0' 让 GPU 0 少放一些，'sequential' 按顺序占满各 GPU，'cpu'，"
        "或指定单个 GPU，如 'cuda:0'。"),
    "model.max_memory": (
        "内存上限",
        "可选：为设备分配设定每个设备的内存上限，例如 {0: 20GiB, cpu: 64GiB}：键为 GPU 编号（与 compute.gpus "
        "相同）、cpu 或 disk；大小用 GiB、GB、MiB 或 MB 表示。"),
    "model.dtype": (
        "精度",
        "计算所用的数值格式：'auto' 在支持 bfloat16 的 GPU 上选 bfloat16，较旧的 GPU 上选 float16，"
        "CPU 上选 float32（没有 bfloat16 运算单元的 CPU 用它会慢好几倍）。"),
    "model.trust_remote_code": (
        "信任远程代码",
        "运行模型附带的 Python 代码。只有在信任模型来源时才开启。"),

    # ---- DataConfig --------------------------------------------------------------------------------------------
    "data.path": (
        "数据集文件",
        "一个 .jsonl、.json、.csv、.parquet 或 .txt 文件（或 Hub 上的数据集 ID）。"),
    "data.format": (
        "格式",
        "数据行的组织方式；'auto' 根据字段自动识别。"),
    "data.eval_fraction": (
        "验证集比例",
        "留出作为验证集的数据比例，用来衡量模型在未训练过的数据上的损失。"),
    "data.replay": (
        "知识回放条数",
        "保留常识：训练前，先让基础模型亲自回答这么多条内置的日常问题，并把这些回答混入训练数据。"
        "否则，小模型在狭窄的数据集上反复训练后会忘记普通常识。设为 0 则关闭。"),
    "data.columns": (
        "列映射",
        "当文件的列名与常用名称不同时，指明哪一列是什么，例如 {prompt: question, completion: answer}；"
        "对话内部可写 {role: speaker, content: text}。"),
    "data.roles": (
        "角色映射",
        "文件对话中的角色名及其含义，例如 {customer: user, agent: assistant}。"
        "human/gpt、user/assistant、system、function_call 和 observation 已能自动识别。"),
    "data.placeholders": (
        "占位符的值",
        "数据中 {{name}} 形式占位符的取值（身份数据集常用），例如 {name: Nova, author: Lumen Labs}。"),
    "data.eval_path": (
        "验证集文件",
        "单独的验证集文件，用来衡量损失；填写后，不再从训练文件中按比例留出验证集。"),
    "data.skip_bad_rows": (
        "跳过无法使用的行",
        "即使有些行无法使用也继续训练：这些行会被排除，并在日志中注明数量。"
        "关闭时，含有问题行的文件会被拒绝，直到问题修好为止。"),

    # ---- LoraConfig --------------------------------------------------------------------------------------------
    "lora.r": (
        "秩 (r)",
        "秩：适配器的宽度。越高学到的越多，占用的显存也越多；通常为 8-64。"),
    "lora.alpha": (
        "Alpha",
        "适配器作用的缩放系数；通常设为秩的两倍。"),
    "lora.dropout": (
        "Dropout",
        "训练时随机丢弃部分适配器输入，以减少过拟合。"),
    "lora.target_modules": (
        "目标层",
        "哪些层加上适配器：'all-linear'（推荐），或层名列表，如 [q_proj, v_proj]。"),
    "lora.use_rslora": (
        "rsLoRA",
        "秩稳定 LoRA：按 alpha/sqrt(r) 缩放，在高秩时更有帮助。"),
    "lora.use_dora": (
        "DoRA",
        "DoRA：同时学习幅度和方向；效果略好，但更慢。"),

    # ---- TrainConfig -------------------------------------------------------------------------------------------
    "train.epochs": (
        "训练轮数",
        "遍历训练数据的次数。"),
    "train.max_steps": (
        "最大步数",
        "若大于 0，则在这么多个优化器步数后停止，而不按训练轮数计算。"),
    "train.learning_rate": (
        "学习率",
        "每一步更新的幅度。'auto' 按训练方法和模型大小选用实测过的值，并在日志中说明选了什么、为什么："
        "1B 参数以下的模型用 LoRA 时，sft 和 cpt 选 1e-3（小模型需要它才能在几分钟内学会），偏好训练方法更低"
        "（学习率高时生成的回答会崩坏）；更大的模型（sft、cpt）选 2e-4，这是 LoRA 的常用范围。"
        "全量和冻结微调取 LoRA 学习率的十分之一。"),
    "train.batch_size": (
        "批大小",
        "每个设备每步处理的样本数。显存不足时请调低。"),
    "train.grad_accum": (
        "梯度累积",
        "累加多少步的梯度后再更新一次：有效批大小 = 批大小 x 此值。"),
    "train.max_length": (
        "最大长度",
        "单个样本的最大词元（token）数；更长的会被截断（并记入日志）。使用 cpt 时，是文本切分成的块的长度"
        "（不会截掉任何内容）。"),
    "train.seed": (
        "随机种子",
        "用于数据划分、打乱顺序和适配器初始化的随机种子。"),
    "train.scheduler": (
        "学习率调度",
        "学习率在训练过程中如何变化。"),
    "train.warmup_fraction": (
        "预热比例",
        "学习率从 0 逐步升高所用的步数占总步数的比例。"),
    "train.gradient_checkpointing": (
        "梯度检查点",
        "在反向传播时重新计算激活值：节省显存，但速度约慢 30%。"
        "'auto' 在 GPU 上对 1B 及以上参数的模型开启。"),
    "train.weight_decay": (
        "权重衰减",
        "把适配器权重往 0 拉；短时间训练用 0 即可。"),
    "train.max_grad_norm": (
        "梯度裁剪",
        "裁剪过大的梯度，使训练保持稳定。"),
    "train.eval_every": (
        "评估间隔",
        "每 N 步在验证集上测一次损失；设为 0 则每次运行自动安排约 5 次评估。"),
    "train.save_every": (
        "检查点间隔",
        "每 N 步保存一个可续训的检查点；设为 0 则每轮保存一次。"),
    "train.logging_every": (
        "日志间隔",
        "每 N 步记录一次损失。"),
    "train.retry_on_oom": (
        "显存不足时重试",
        "GPU 显存不足时，自动以一半的批大小和两倍的梯度累积重试一次（等效批大小不变）。",
    ),
    "train.probes": (
        "探针提示",
        "每次评估时用适配器回答这些提示（训练前也用基础模型回答一次），答案保存在 probes.jsonl 中，"
        "便于观察回答的变化。留空则使用前 3 条验证集样本的问题。每行一个提示。"),
    "train.padding_free": (
        "无填充批次",
        "把一个批次的样本首尾相接放进一行，而不是都填充到最长样本的长度，省去在填充上花的时间；"
        "注意力仍让每个样本只看到自己。'auto' 仅在 flash_attention_2 下开启（其内核会跳过其他样本）；"
        "使用 sdpa 或 eager 时整行一起计算注意力，长行反而更慢。"),
    "train.packing": (
        "打包",
        "把多个短样本装进一行，直到最大长度（最佳适配，从不拆开一个样本）。步数更少、每步更满；每轮的步数会减少。"),
    "train.attention": (
        "注意力实现",
        "注意力的实现方式：'auto' 在 GPU 上且已安装时选 flash_attention_2，否则选 sdpa；'eager' 是朴素的参考实现。"),
    "train.liger_kernel": (
        "Liger 内核",
        "Liger 的融合 GPU 内核（损失和 MLP 占用更少显存）。'auto' 在 GPU 上且已安装 liger-kernel 包时使用。"),
    "train.group_by_length": (
        "按长度分组",
        "把长度相近的样本放进同一批次，减少填充浪费；代价是样本顺序没那么随机。"),
    "train.torch_compile": (
        "torch.compile 编译",
        "用 torch.compile 编译模型：在 GPU 上第一步较慢、之后更快；短时间运行或在 CPU 上很少划算。"),
    "train.method": (
        "训练方法",
        "模型如何从数据中学习：sft（模仿回答）、dpo（相对基础模型，更偏好 chosen 回答而不是 rejected 回答）、"
        "orpo（模仿 chosen 回答并远离 rejected 回答，无需参考模型）、kto（逐条标注为好/坏的回答，无需成对）、"
        "cpt（在原始文本上继续预训练）。"),
    "train.tuning": (
        "训练哪些权重",
        "'lora' 在冻结的模型旁训练一个小适配器（显存最少，运行保存适配器）；'full' 训练全部权重（权重、梯度和优化器"
        "状态每个参数约需 16 字节显存；运行保存完整模型）；'freeze' 只训练最后几层。"),
    "train.freeze_trainable_layers": (
        "可训练的最后层数",
        "使用 'freeze' 时：训练模型最后多少层；其余层保持不变。"),
    "train.beta": (
        "Beta",
        "偏好强度。dpo 和 kto：模型可以偏离基础模型多远（越大越接近基础模型）；orpo：偏好项相对监督损失的权重。"),
    "train.dpo_loss": (
        "DPO 损失",
        "DPO 的损失函数：sigmoid（原始 DPO）、ipo、hinge、robust（偏好标注有噪声时）、sigmoid_norm（按长度归一化）、"
        "apo_zero。"),
    "train.sft_weight": (
        "监督损失权重",
        "以此权重在 DPO 损失之外加上 chosen 回答的监督损失（RPO；trl 的 'sft' 损失类型），有助于保住回答的内容。"
        "0 表示关闭。"),
    "train.desirable_weight": (
        "好回答权重",
        "KTO：好回答（desirable）损失的权重；好回答比坏回答少时调高。"),
    "train.undesirable_weight": (
        "坏回答权重",
        "KTO：坏回答（undesirable）损失的权重；坏回答比好回答少时调高。"),
    "train.report_to": (
        "实验跟踪",
        "同时把本次运行记录到实验跟踪工具，本地或离线（运行文件夹中的 metrics.jsonl 仍是工作室绘图所用）："
        "tensorboard（写入 runs/<name>/tracking；pip install tensorboard）、wandb（离线模式；pip install wandb）、"
        "swanlab（本地模式；pip install swanlab）、trackio（本地；pip install trackio）。只提供已安装的。"),

    # ---- ComputeConfig -----------------------------------------------------------------------------------------
    "compute.gpus": (
        "GPU",
        "本次运行可以使用的 GPU：'auto'（所有还有空闲显存的 GPU）、'all'（全部）、GPU 编号列表如 '0,1'，"
        "或 'none'（在 CPU 上训练）。训练进程只能看到这些 GPU。"),
    "compute.strategy": (
        "多 GPU 策略",
        "多块 GPU 如何分担工作：'single'（一块 GPU）、'model_parallel'（一个进程，模型各层分布在多块 GPU 上）、"
        "'ddp'（每块 GPU 一份完整副本，各自训练每个批次的一部分）、'fsdp' 或 'deepspeed_zero2'/'deepspeed_zero3'"
        "（副本在各 GPU 间分片）。'auto' 根据模型大小、量化方式和所选 GPU 的空闲显存来决定，并在日志中说明原因。"),
    "compute.processes": (
        "进程数",
        "训练进程的数量：'auto'（ddp、fsdp 和 deepspeed 每块 GPU 一个进程，其他情况一个进程）或一个数字。"
        "没有 GPU 的机器上也可以用 ddp 跑 2 个进程（在 CPU 上，较慢，用于测试）。"),

    # ---- ChatSettings ------------------------------------------------------------------------------------------
    "chat.system_prompt": (
        "系统提示词",
        "模型在对话开始前看到的指令。留空则使用本次运行的系统提示词（model.system_prompt），即训练时所用的那个。"),
    "chat.temperature": (
        "温度",
        "回答的随机程度；0 总是选最可能的词（贪心解码）。"),
    "chat.top_p": (
        "Top-p",
        "只从概率累加达到此值的最可能的词中采样。"),
    "chat.max_new_tokens": (
        "最大生成词元数",
        "回答的最大长度，以词元（token）计。"),
    "chat.votes": (
        "投票次数",
        "采样这么多个回答，显示出现最多的最终答案及其票数（多数投票）。1 表示只回答一次。"
        "温度为 0 时，采样使用 0.7。"),
    "chat.answer_pattern": (
        "答案提取模式",
        "用于在回答中找出最终答案的正则表达式（取第一个分组）；投票和精确匹配评估都比较它找到的内容。"
        "找不到时比较整个回答。留空则比较整个回答。"),
}

# One line per training method (train.method), shown beside the choice; English in core.config.METHOD_TEXT.
METHOD_TEXT_ZH: dict[str, str] = {
    "sft": "监督微调：模型学习逐字写出数据中的回答。",
    "dpo": "直接偏好优化：对每个问题，模型学会更偏好 chosen 回答而不是 rejected 回答，并以基础模型为参照，"
           "从而保持接近原来的样子。",
    "orpo": "ORPO：在 chosen 回答上做监督微调，同时远离 rejected 回答，一步完成，无需参考模型。",
    "kto": "KTO：逐条标注为好（desirable）或坏（undesirable）的回答，无需成对；模型靠近好的、远离坏的。",
    "cpt": "继续预训练：模型阅读你的原始文本（按最大长度切成块），学习其中的词语和知识；不需要问答。",
}
