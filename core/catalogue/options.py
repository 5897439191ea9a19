"""Every option's label and help line (core/config.py defines the option; its words live here): keys
'<section>.<option>.label' and '.help', and one line per training method."""

TEXTS = {
    # ---- run
    "name.label": ("Run name", "运行名称"),
    "name.help": ("The run's name; its folder is runs/<name>.", "本次运行的名称；其文件夹为 runs/<name>。"),
    "sweep_of.label": ("Sweep", "参数扫描"),
    "sweep_of.help": (
        "Set by a sweep (a config with sweep:): the sweep this run is one of, so Compare runs can open on them "
        "together; empty for a run of its own.",
        "由参数扫描（带 sweep: 的配置）填写：本次运行所属的扫描，“比较运行”据此把它们一起打开；单独的运行留空。"),
    # ---- model
    "model.source.label": ("Base model", "基础模型"),
    "model.source.help": (
        "The base model: 'default' (the built-in SmolLM2-135M-Instruct), 'gemma-3-270m' (the built-in pretrained "
        "Gemma 3 270M, multilingual), a local model folder, a model id from the Hugging Face hub, or run:NAME to start "
        "from a finished run.",
        "要微调的基础模型：'default'（内置的 SmolLM2-135M-Instruct）、'gemma-3-270m'（内置的预训练 Gemma 3 "
        "270M，多语言）、本地模型文件夹、Hugging Face Hub 上的模型 ID，或 run:NAME（从一个已完成的运行开始）。"),
    "model.start.label": ("How to start from a run", "从已有运行开始的方式"),
    "model.start.help": (
        "Only when the base model is a finished run (run:NAME): 'continue' trains that run's adapter further, with "
        "its LoRA settings (more data, or another method on the same adapter); 'build_on' merges its adapter into "
        "its base and trains a new adapter on top (a new stage, such as DPO after SFT: the reference is then the "
        "SFT model). A full or freeze run is started from as the whole model it saved.",
        "仅当基础模型是一个已完成的运行（run:NAME）时有效：'continue' 沿用该运行的 LoRA 设置继续训练它的适配器"
        "（更多数据，或对同一适配器换一种方法）；'build_on' 把它的适配器合并进其基础模型，再在上面训练一个新适配器"
        "（新的阶段，例如 SFT 之后做 DPO：参考模型即为 SFT 模型）。"
        "全量或冻结训练的运行则直接以其保存的完整模型为起点。"),
    "model.system_prompt.label": ("System prompt", "系统提示词"),
    "model.system_prompt.help": (
        "The system prompt of every conversation that has none of its own, in training, chat, evaluation and the "
        "export: 'none' for no system prompt (some templates, SmolLM2's and Qwen2.5's, add their own, such as \"You "
        "are ... named SmolLM\", which would contradict a new identity), 'template' for whatever the model's chat "
        "template adds, or your own text.",
        "所有没有自带系统提示词的对话所用的系统提示词，训练、对话、评估和导出都一样：'none' "
        "表示不用系统提示词（有些模板会自己加一段，例如 SmolLM2 和 Qwen2.5 的“You are ... named "
        "SmolLM”，会与新的身份相矛盾），'template' 表示沿用模型对话模板自带的内容，也可以填写你自己的文字。"),
    "model.quantization.label": ("Quantization", "量化"),
    "model.quantization.help": (
        "Load the frozen base weights in 8-bit or 4-bit (QLoRA) to save memory; needs bitsandbytes. 'none' keeps "
        "full precision and trains fastest.",
        "以 8 位或 4 位（QLoRA）加载冻结的基础权重以节省显存；需要 bitsandbytes。'none' 保持全精度，训练最快。"),
    "model.device_map.label": ("Device map", "设备分配"),
    "model.device_map.help": (
        "Where the model's layers go: 'auto' fills GPUs then CPU, 'balanced' spreads evenly over GPUs, "
        "'balanced_low_0' keeps GPU 0 light, 'sequential' fills GPUs in order, 'cpu', or one GPU such as 'cuda:0'.",
        "模型各层放在哪里：'auto' 先占满 GPU 再用 CPU，'balanced' 在各 GPU 间平均分配，'balanced_low_0' 让 GPU 0 "
        "少放一些，'sequential' 按顺序占满各 GPU，'cpu'，或指定单个 GPU，如 'cuda:0'。"),
    "model.max_memory.label": ("Memory caps", "内存上限"),
    "model.max_memory.help": (
        "Optional memory cap per device for the device map, e.g. {0: 20GiB, cpu: 64GiB}: keys are GPU numbers (as in "
        "compute.gpus), cpu or disk; sizes in GiB, GB, MiB or MB.",
        "可选：为设备分配设定每个设备的内存上限，例如 {0: 20GiB, cpu: 64GiB}：键为 GPU 编号（与 compute.gpus "
        "相同）、cpu 或 disk；大小用 GiB、GB、MiB 或 MB 表示。"),
    "model.dtype.label": ("Precision", "精度"),
    "model.dtype.help": (
        "Number format for computing: 'auto' picks bfloat16 on GPUs that have it, float16 on older GPUs and float32 "
        "on the CPU (CPUs without bfloat16 units are several times slower in it).",
        "计算所用的数值格式：'auto' 在支持 bfloat16 的 GPU 上选 bfloat16，较旧的 GPU 上选 float16，CPU 上选 "
        "float32（没有 bfloat16 运算单元的 CPU 用它会慢好几倍）。"),
    "model.trust_remote_code.label": ("Trust remote code", "信任远程代码"),
    "model.trust_remote_code.help": (
        "Run Python code shipped with the model. Only turn this on for a model whose source you trust.",
        "运行模型附带的 Python 代码。只有在信任模型来源时才开启。"),
    "model.hub.label": ("Hub", "模型仓库"),
    "model.hub.help": (
        "Where a hub id in Base model is downloaded from, before the run loads it: 'huggingface' (the Hugging Face "
        "hub, or the mirror below) or 'modelscope' (ModelScope, reachable from mainland China). A finished "
        "download is kept in the studio's cache and used offline from then on.",
        "基础模型填写仓库 ID 时从哪里下载（在运行加载模型之前）：'huggingface'（Hugging Face，或下方的镜像）或 "
        "'modelscope'（魔搭社区 ModelScope，中国大陆可直接访问）。下载完成的模型保存在工作室的缓存中，"
        "之后离线也能用。"),
    "model.hub_endpoint.label": ("Mirror address", "镜像地址"),
    "model.hub_endpoint.help": (
        "The address of a mirror of the hub, such as https://mirror.example.org; empty for the hub's own address (or "
        "the HF_ENDPOINT environment variable, as huggingface_hub reads it).",
        "模型仓库镜像的地址，例如 https://mirror.example.org；留空则用仓库自己的地址（或环境变量 HF_ENDPOINT，"
        "与 huggingface_hub 的用法相同）。"),
    # ---- data
    "data.path.label": ("Dataset file", "数据集文件"),
    "data.path.help": (
        "A .jsonl, .json, .csv, .parquet or .txt file, a folder of them, or a hub dataset: ORG/NAME, with a subset "
        "and split as ORG/NAME@SUBSET:SPLIT (downloaded once from the studio's hub).",
        "一个 .jsonl、.json、.csv、.parquet 或 .txt 文件、包含这些文件的文件夹，或数据集仓库 ID：ORG/NAME，"
        "子集和划分写作 ORG/NAME@SUBSET:SPLIT（从工作室选定的仓库下载一次）。"),
    "data.format.label": ("Format", "格式"),
    "data.format.help": (
        "How rows are laid out; 'auto' detects it from the fields.",
        "数据行的组织方式；'auto' 根据字段自动识别。"),
    "data.eval_fraction.label": ("Held-out share", "验证集比例"),
    "data.eval_fraction.help": (
        "Share of rows held out to measure loss on data the model does not train on.",
        "留出作为验证集的数据比例，用来衡量模型在未训练过的数据上的损失。"),
    "data.replay.label": ("Knowledge replay rows", "知识回放条数"),
    "data.replay.help": (
        "Keep general knowledge: before training, the base model answers this many bundled everyday questions itself "
        "and those answers are mixed into the training data. Without it a small model drilled on a narrow dataset "
        "forgets ordinary facts. 0 turns it off. (Supervised fine-tuning only.)",
        "保留常识：训练前，先让基础模型亲自回答这么多条内置的日常问题，并把这些回答混入训练数据。否则，小模型在狭窄的"
        "数据集上反复训练后会忘记普通常识。设为 "
        "0 则关闭。"),
    "data.columns.label": ("Column mapping", "列映射"),
    "data.columns.help": (
        "Which of the file's columns holds what, when its names differ from the usual ones, e.g. {prompt: question, "
        "completion: answer} or, inside conversations, {role: speaker, content: text}.",
        "当文件的列名与常用名称不同时，指明哪一列是什么，例如 {prompt: question, completion: answer}；对话内部可写 "
        "{role: speaker, content: text}。"),
    "data.roles.label": ("Role mapping", "角色映射"),
    "data.roles.help": (
        "Role names in the file's conversations and what they mean, e.g. {customer: user, agent: assistant}. "
        "human/gpt, user/assistant, system, function_call and observation are known already.",
        "文件对话中的角色名及其含义，例如 {customer: user, agent: "
        "assistant}。human/gpt、user/assistant、system、function_call 和 observation 已能自动识别。"),
    "data.placeholders.label": ("Placeholder values", "占位符的值"),
    "data.placeholders.help": (
        "Values for {{name}}-style placeholders in the data (identity datasets use them), e.g. {name: Nova, author: "
        "Lumen Labs}.",
        "数据中 {{name}} 形式占位符的取值（身份数据集常用），例如 {name: Nova, author: Lumen Labs}。"),
    "data.eval_path.label": ("Held-out file", "验证集文件"),
    "data.eval_path.help": (
        "A separate file of held-out rows to measure loss on; when given, the held-out share is not taken from the "
        "training file.",
        "单独的验证集文件，用来衡量损失；填写后，不再从训练文件中按比例留出验证集。"),
    "data.skip_bad_rows.label": ("Skip rows that cannot be used", "跳过无法使用的行"),
    "data.skip_bad_rows.help": (
        "Train even though some rows cannot be used: they are left out, and the count is stated and logged. Off: a "
        "file with bad rows is refused until they are fixed.",
        "即使有些行无法使用也继续训练：这些行会被排除，并在日志中注明数量。关闭时，含有问题行的文件会被拒绝，直到问题"
        "修好为止。"),
    # ---- lora
    "lora.r.label": ("Rank (r)", "秩 (r)"),
    "lora.r.help": (
        "Rank: the adapter's width. Higher learns more and uses more memory; 8-64 is usual.",
        "秩：适配器的宽度。越高学到的越多，占用的显存也越多；通常为 8-64。"),
    "lora.alpha.label": ("Alpha", "Alpha"),
    "lora.alpha.help": (
        "Scale of the adapter's effect; usually twice the rank.",
        "适配器作用的缩放系数；通常设为秩的两倍。"),
    "lora.dropout.label": ("Dropout", "Dropout"),
    "lora.dropout.help": (
        "Randomly drops adapter inputs during training to reduce overfitting.",
        "训练时随机丢弃部分适配器输入，以减少过拟合。"),
    "lora.target_modules.label": ("Target layers", "目标层"),
    "lora.target_modules.help": (
        "Which layers get an adapter: 'all-linear' (recommended) or a list of layer names such as [q_proj, v_proj].",
        "哪些层加上适配器：'all-linear'（推荐），或层名列表，如 [q_proj, v_proj]。"),
    "lora.use_rslora.label": ("rsLoRA", "rsLoRA"),
    "lora.use_rslora.help": (
        "Rank-stabilized LoRA: scales by alpha/sqrt(r), which helps at high ranks.",
        "秩稳定 LoRA：按 alpha/sqrt(r) 缩放，在高秩时更有帮助。"),
    "lora.use_dora.label": ("DoRA", "DoRA"),
    "lora.use_dora.help": (
        "DoRA: learns a magnitude as well as a direction; a little better, slower.",
        "DoRA：同时学习幅度和方向；效果略好，但更慢。"),
    # ---- train
    "train.method.label": ("Training method", "训练方法"),
    "train.method.help": (
        "How the model learns from the data: sft (imitate the answers), dpo (prefer the chosen answer over the "
        "rejected one, against the base model), orpo (imitate the chosen answer and push away from the rejected one, "
        "no reference model), kto (answers marked desirable or undesirable, unpaired), cpt (continued pretraining on "
        "raw text), grpo (sample several answers per question and learn from rewards that check them).",
        "模型如何从数据中学习：sft（模仿回答）、dpo（相对基础模型，更偏好 chosen 回答而不是 rejected "
        "回答）、orpo（模仿 chosen 回答并远离 rejected "
        "回答，无需参考模型）、kto（逐条标注为好/坏的回答，无需成对）、cpt（在原始文本上继续预训练）、grpo"
        "（每个问题采样几个回答，从核对它们的奖励中学习）。"),
    "train.tuning.label": ("What to train", "训练哪些权重"),
    "train.tuning.help": (
        "Which weights change: 'lora' trains a small adapter beside the frozen model (least memory, the run saves an "
        "adapter); 'full' trains every weight (about 16 bytes of memory per parameter for weights, gradients and "
        "optimizer states; the run saves a whole model); 'freeze' trains only the last layers.",
        "'lora' 在冻结的模型旁训练一个小适配器（显存最少，运行保存适配器）；'full' "
        "训练全部权重（权重、梯度和优化器状态每个参数约需 16 字节显存；运行保存完整模型）；'freeze' 只训练最后几层。"),
    "train.freeze_trainable_layers.label": ("Trainable last layers", "可训练的最后层数"),
    "train.freeze_trainable_layers.help": (
        "With tuning 'freeze': how many of the model's last layers are trained; the others stay as they are.",
        "使用 'freeze' 时：训练模型最后多少层；其余层保持不变。"),
    "train.beta.label": ("Beta", "Beta"),
    "train.beta.help": (
        "Preference strength. dpo and kto: how far the model may move from the base model (higher stays closer); "
        "orpo: the weight of the preference term beside the supervised loss; grpo: the KL penalty that keeps the "
        "model near the base model (0 turns it off and saves the reference pass).",
        "偏好强度。dpo 和 kto：模型可以偏离基础模型多远（越大越接近基础模型）；orpo：偏好项相对监督损失的权重；grpo："
        "让模型靠近基础模型的 KL 惩罚（0 表示关闭，并省去参考模型的计算）。"),
    "train.rewards.label": ("Rewards", "奖励"),
    "train.rewards.help": (
        "What earns a sampled answer its reward. answer: the answer the answer pattern finds equals the reference "
        "answer. format: the answer is written in the chosen format. length: a soft penalty for answers longer than "
        "the length limit.",
        "采样出的回答凭什么得到奖励。answer：答案提取模式找到的答案与参考答案相同。format：回答按所选格式书写。length："
        "回答超过长度上限时给予温和的惩罚。"),
    "train.answer_weight.label": ("Answer reward weight", "答案奖励权重"),
    "train.answer_weight.help": (
        "How much a right answer counts in the total reward (1 = the full reward for a right answer).",
        "答对在总奖励中占多少（1 表示答对得到完整奖励）。"),
    "train.format_weight.label": ("Format reward weight", "格式奖励权重"),
    "train.format_weight.help": (
        "How much the right format counts; keep it below the answer's so that a well-written wrong answer never "
        "beats a right one.",
        "格式正确占多少；请低于答案奖励，这样写得漂亮的错误答案永远不会胜过正确答案。"),
    "train.length_weight.label": ("Length penalty weight", "长度惩罚权重"),
    "train.length_weight.help": (
        "How much an answer past the length limit loses, at most (the penalty grows with the tokens past the limit).",
        "超过长度上限的回答最多扣多少（超出的词元越多，扣得越多）。"),
    "train.num_generations.label": ("Answers per question", "每题采样回答数"),
    "train.num_generations.help": (
        "How many answers are sampled for each question and compared with each other; batch size x gradient "
        "accumulation must be a multiple of it. More answers give a steadier signal and cost more time.",
        "每个问题采样多少个回答并互相比较；批大小 × 梯度累积必须是它的倍数。回答越多信号越稳，但更耗时。"),
    "train.completion_length.label": ("Answer length (tokens)", "回答长度（词元）"),
    "train.completion_length.help": (
        "The most tokens each sampled answer may have; an answer cut off there usually misses its final line.",
        "每个采样回答最多的词元数；在此被截断的回答通常缺少最后一行。"),
    "train.temperature.label": ("Sampling temperature", "采样温度"),
    "train.temperature.help": (
        "How varied the sampled answers are: they must differ for the rewards to tell better from worse (1.0 is the "
        "usual choice).",
        "采样回答的多样程度：回答必须有差别，奖励才能分出好坏（通常取 1.0）。"),
    "train.answer_pattern.label": ("Answer pattern", "答案提取模式"),
    "train.answer_pattern.help": (
        "The regular expression that finds the final answer in a sampled answer and in the reference (its first "
        "group); the Evaluate tab uses the same one. A reference the pattern does not match is its own answer.",
        "在采样回答和参考答案中找出最终答案的正则表达式（取第一个分组）；评估页用的是同一个。参考答案不匹配时，整个参考"
        "答案就是答案。"),
    "train.format_pattern.label": ("Format", "格式"),
    "train.format_pattern.help": (
        "The format the format reward checks: answer_is (ends with \"The answer is X\" or \"答案是：X\"), "
        "think_then_answer (<think>...</think>, then the answer), or a regular expression of your own that the whole "
        "answer must match.",
        "格式奖励检查的格式：answer_is（以 \"The answer is X\" 或 \"答案是：X\" 结尾）、think_then_answer"
        "（先 <think>...</think>，再给出答案），或你自己的正则表达式（整个回答须与之匹配）。"),
    "train.length_limit.label": ("Length limit (tokens)", "长度上限（词元）"),
    "train.length_limit.help": (
        "With the length reward: answers up to this many tokens lose nothing; longer ones lose more the longer they "
        "are.",
        "使用长度奖励时：不超过这么多词元的回答不扣分；越长扣得越多。"),
    "train.reward_file.label": ("Reward file (Python)", "奖励文件（Python）"),
    "train.reward_file.help": (
        "For those who program: a .py file whose function reward(completions, references, **kwargs) returns one "
        "number per completion, added to the rewards above. It runs only with 'Run code from the reward file' on.",
        "供会编程的用户使用：一个 .py 文件，其中函数 reward(completions, references, **kwargs) 为每个回答返回一个数，"
        "与上面的奖励相加。只有打开「运行奖励文件中的代码」时才会运行。"),
    "train.run_reward_code.label": ("Run code from the reward file", "运行奖励文件中的代码"),
    "train.run_reward_code.help": (
        "The reward file is Python that runs on this machine with your rights: turn this on only for a file you "
        "wrote or trust.",
        "奖励文件是以你的权限在本机运行的 Python 代码：只对自己写的或信任的文件打开。"),
    "train.dpo_loss.label": ("DPO loss", "DPO 损失"),
    "train.dpo_loss.help": (
        "The DPO loss: sigmoid (the original DPO), ipo, hinge, robust (noisy preference labels), sigmoid_norm "
        "(length-normalized), apo_zero.",
        "DPO 的损失函数：sigmoid（原始 "
        "DPO）、ipo、hinge、robust（偏好标注有噪声时）、sigmoid_norm（按长度归一化）、apo_zero。"),
    "train.sft_weight.label": ("Supervised loss weight", "监督损失权重"),
    "train.sft_weight.help": (
        "Add the supervised loss on the chosen answers with this weight (RPO; trl's loss type 'sft' beside the DPO "
        "loss); it helps keep the answers' content. 0 turns it off.",
        "以此权重在 DPO 损失之外加上 chosen 回答的监督损失（RPO；trl 的 'sft' 损失类型），有助于保住回答的内容。0 "
        "表示关闭。"),
    "train.desirable_weight.label": ("Desirable weight", "好回答权重"),
    "train.desirable_weight.help": (
        "KTO: weight of the desirable answers' loss; raise it when they are fewer than the undesirable ones.",
        "KTO：好回答（desirable）损失的权重；好回答比坏回答少时调高。"),
    "train.undesirable_weight.label": ("Undesirable weight", "坏回答权重"),
    "train.undesirable_weight.help": (
        "KTO: weight of the undesirable answers' loss; raise it when they are fewer than the desirable ones.",
        "KTO：坏回答（undesirable）损失的权重；坏回答比好回答少时调高。"),
    "train.epochs.label": ("Epochs", "训练轮数"),
    "train.epochs.help": ("Passes over the training data.", "遍历训练数据的次数。"),
    "train.max_steps.label": ("Max steps", "最大步数"),
    "train.max_steps.help": (
        "If above 0, stop after this many optimizer steps instead of counting epochs; -1 trains the epochs (0 is "
        "refused: it would train no step).",
        "若大于 0，则在这么多个优化器步数后停止，而不按训练轮数计算；-1 表示按训练轮数训练"
        "（0 会被拒绝：它不会训练任何一步）。"),
    "train.learning_rate.label": ("Learning rate", "学习率"),
    "train.learning_rate.help": (
        "Step size. 'auto' picks a rate measured for the method and the model's size, and the log says which and "
        "why: for LoRA on models under 1B parameters 1e-3 for sft and cpt (small models need it to learn within "
        "minutes), lower for the preference methods, whose generations break at high rates; 2e-4 for larger models "
        "(sft, cpt), the usual LoRA range. Full and freeze tuning take a tenth of the LoRA rate.",
        "每一步更新的幅度。'auto' 按训练方法和模型大小选用实测过的值，并在日志中说明选了什么、为什么：1B "
        "参数以下的模型用 LoRA 时，sft 和 cpt 选 "
        "1e-3（小模型需要它才能在几分钟内学会），偏好训练方法更低（学习率高时生成的回答会崩坏）；更大的模型（sft、cpt"
        "）选 "
        "2e-4，这是 LoRA 的常用范围。全量和冻结微调取 LoRA 学习率的十分之一。"),
    "train.batch_size.label": ("Batch size", "批大小"),
    "train.batch_size.help": (
        "Examples per step on each device. Lower it if memory runs out.",
        "每个设备每步处理的样本数。显存不足时请调低。"),
    "train.grad_accum.label": ("Gradient accumulation", "梯度累积"),
    "train.grad_accum.help": (
        "Steps whose gradients are summed before an update: effective batch = batch size x this.",
        "累加多少步的梯度后再更新一次：有效批大小 = 批大小 x 此值。"),
    "train.max_length.label": ("Max length", "最大长度"),
    "train.max_length.help": (
        "Longest example in tokens; longer ones are cut (and counted in the log). With cpt, the length of the blocks "
        "the text is split into (nothing is cut off).",
        "单个样本的最大词元（token）数；更长的会被截断（并记入日志）。使用 cpt "
        "时，是文本切分成的块的长度（不会截掉任何内容）。"),
    "train.seed.label": ("Seed", "随机种子"),
    "train.seed.help": (
        "Random seed for the data split, shuffling and adapter initialisation.",
        "用于数据划分、打乱顺序和适配器初始化的随机种子。"),
    "train.scheduler.label": ("Schedule", "学习率调度"),
    "train.scheduler.help": ("How the learning rate changes over the run.", "学习率在训练过程中如何变化。"),
    "train.warmup_fraction.label": ("Warm-up share", "预热比例"),
    "train.warmup_fraction.help": (
        "Share of the steps over which the learning rate ramps up from 0.",
        "学习率从 0 逐步升高所用的步数占总步数的比例。"),
    "train.gradient_checkpointing.label": ("Gradient checkpointing", "梯度检查点"),
    "train.gradient_checkpointing.help": (
        "Recompute activations in the backward pass: saves memory, costs about 30% speed. 'auto' turns it on for "
        "models of 1B parameters and more on a GPU.",
        "在反向传播时重新计算激活值：节省显存，但速度约慢 30%。'auto' 在 GPU 上对 1B 及以上参数的模型开启。"),
    "train.weight_decay.label": ("Weight decay", "权重衰减"),
    "train.weight_decay.help": (
        "Pulls adapter weights towards zero; 0 is fine for short runs.",
        "把适配器权重往 0 拉；短时间训练用 0 即可。"),
    "train.max_grad_norm.label": ("Gradient clipping", "梯度裁剪"),
    "train.max_grad_norm.help": ("Clips large gradients to keep training stable.", "裁剪过大的梯度，使训练保持稳定。"),
    "train.eval_every.label": ("Evaluate every", "评估间隔"),
    "train.eval_every.help": (
        "Measure held-out loss every N steps; 0 picks about 5 evaluations per run.",
        "每 N 步在验证集上测一次损失；设为 0 则每次运行自动安排约 5 次评估。"),
    "train.save_every.label": ("Checkpoint every", "检查点间隔"),
    "train.save_every.help": (
        "Save a resumable checkpoint every N steps; 0 saves once per epoch.",
        "每 N 步保存一个可续训的检查点；设为 0 则每轮保存一次。"),
    "train.logging_every.label": ("Log every", "日志间隔"),
    "train.logging_every.help": ("Record loss every N steps.", "每 N 步记录一次损失。"),
    "train.retry_on_oom.label": ("Retry when out of memory", "显存不足时重试"),
    "train.retry_on_oom.help": (
        "If the GPU runs out of memory, retry once with half the batch size and twice the gradient accumulation (the "
        "same effective batch).",
        "GPU 显存不足时，自动以一半的批大小和两倍的梯度累积重试一次（等效批大小不变）。"),
    "train.probes.label": ("Probe prompts", "探针提示"),
    "train.probes.help": (
        "Prompts the run answers with its adapter at each evaluation (and the base model once, before training), "
        "kept in probes.jsonl so you can watch the answers change. Empty: the first 3 held-out rows' questions. One "
        "prompt per line.",
        "每次评估时用适配器回答这些提示（训练前也用基础模型回答一次），答案保存在 probes.jsonl "
        "中，便于观察回答的变化。留空则使用前 3 条验证集样本的问题。每行一个提示。"),
    "train.padding_free.label": ("Padding-free batches", "无填充批次"),
    "train.padding_free.help": (
        "Put a batch's examples end to end in one row instead of padding them to the longest, so no time is spent on "
        "padding; attention still keeps each example to itself. 'auto' turns it on with flash_attention_2, whose "
        "kernel skips the other examples; with sdpa or eager a packed row is attended as a whole and is slower for "
        "long rows.",
        "把一个批次的样本首尾相接放进一行，而不是都填充到最长样本的长度，省去在填充上花的时间；注意力仍让每个样本只看"
        "到自己。'auto' "
        "仅在 flash_attention_2 下开启（其内核会跳过其他样本）；使用 sdpa 或 eager "
        "时整行一起计算注意力，长行反而更慢。"),
    "train.packing.label": ("Packing", "打包"),
    "train.packing.help": (
        "Fill each row up to max length with several short examples (best-fit, never splitting one). Fewer, fuller "
        "steps; the number of steps per epoch drops. (cpt always packs its text blocks.)",
        "把多个短样本装进一行，直到最大长度（最佳适配，从不拆开一个样本）。步数更少、每步更满；每轮的步数会减少。"),
    "train.attention.label": ("Attention", "注意力实现"),
    "train.attention.help": (
        "Attention implementation: 'auto' picks flash_attention_2 on an Ampere or newer GPU when flash-attn is "
        "installed and loads, and the model computes in bfloat16 or float16; else sdpa. 'eager' is the plain "
        "reference code.",
        "注意力的实现方式：'auto' 在 Ampere 或更新的 GPU 上、flash-attn 已安装且能加载、并且模型以 bfloat16 或 float16 "
        "计算时选 flash_attention_2，否则选 sdpa；'eager' 是朴素的参考实现。"),
    "train.liger_kernel.label": ("Liger kernels", "Liger 内核"),
    "train.liger_kernel.help": (
        "Liger's fused GPU kernels (less memory for the loss and MLP). 'auto' uses them on a GPU when the "
        "liger-kernel package is installed.",
        "Liger 的融合 GPU 内核（损失和 MLP 占用更少显存）。'auto' 在 GPU 上且已安装 liger-kernel 包时使用。"),
    "train.group_by_length.label": ("Group by length", "按长度分组"),
    "train.group_by_length.help": (
        "Batch examples of similar length together to waste less on padding; the order is then less random. (Not "
        "with kto, whose batches must keep their order.)",
        "把长度相近的样本放进同一批次，减少填充浪费；代价是样本顺序没那么随机。"),
    "train.torch_compile.label": ("torch.compile", "torch.compile 编译"),
    "train.torch_compile.help": (
        "Compile the model with torch.compile: faster steps on a GPU after a slow first step; rarely pays off for "
        "short runs or on the CPU.",
        "用 torch.compile 编译模型：在 GPU 上第一步较慢、之后更快；短时间运行或在 CPU 上很少划算。"),
    "train.report_to.label": ("Experiment tracking", "实验跟踪"),
    "train.report_to.help": (
        "Also log the run to an experiment tracker, locally or offline (the run folder's metrics.jsonl stays what "
        "the studio draws): tensorboard (writes runs/<name>/tracking; pip install tensorboard), wandb (offline mode; "
        "pip install wandb), swanlab (local mode; pip install swanlab), trackio (local; pip install trackio). Only "
        "installed ones are offered.",
        "同时把本次运行记录到实验跟踪工具，本地或离线（运行文件夹中的 metrics.jsonl "
        "仍是工作室绘图所用）：tensorboard（写入 runs/<name>/tracking；pip install "
        "tensorboard）、wandb（离线模式；pip install wandb）、swanlab（本地模式；pip install "
        "swanlab）、trackio（本地；pip install trackio）。只提供已安装的。"),
    # ---- compute
    "compute.gpus.label": ("GPUs", "GPU"),
    "compute.gpus.help": (
        "The GPUs this run may use: 'auto' (every GPU with room), 'all', a list of GPU numbers such as '0,1', or "
        "'none' (train on the CPU). The run's process sees only these GPUs.",
        "本次运行可以使用的 GPU：'auto'（所有还有空闲显存的 GPU）、'all'（全部）、GPU 编号列表如 '0,1'，或 "
        "'none'（在 CPU 上训练）。训练进程只能看到这些 GPU。"),
    "compute.strategy.label": ("Multi-GPU strategy", "多 GPU 策略"),
    "compute.strategy.help": (
        "How several GPUs share the work: 'single' (one GPU), 'model_parallel' (one process, the model's layers "
        "spread over the GPUs), 'ddp' (a full copy per GPU, each trains on part of every batch), 'fsdp' or "
        "'deepspeed_zero2'/'deepspeed_zero3' (copies sharded across GPUs). 'auto' decides from the model's size, "
        "quantization and the free memory of the chosen GPUs, and the log says why.",
        "多块 GPU 如何分担工作：'single'（一块 GPU）、'model_parallel'（一个进程，模型各层分布在多块 GPU "
        "上）、'ddp'（每块 GPU 一份完整副本，各自训练每个批次的一部分）、'fsdp' 或 "
        "'deepspeed_zero2'/'deepspeed_zero3'（副本在各 GPU 间分片）。'auto' 根据模型大小、量化方式和所选 GPU "
        "的空闲显存来决定，并在日志中说明原因。"),
    "compute.processes.label": ("Processes", "进程数"),
    "compute.processes.help": (
        "Training processes: 'auto' (one per GPU for ddp, fsdp and deepspeed; one otherwise) or a number. ddp with 2 "
        "processes also runs on a machine without GPU (on the CPU, slower: for testing).",
        "训练进程的数量：'auto'（ddp、fsdp 和 deepspeed 每块 GPU 一个进程，其他情况一个进程）或一个数字。没有 GPU "
        "的机器上也可以用 ddp 跑 2 个进程（在 CPU 上，较慢，用于测试）。"),
    # ---- chat
    "chat.system_prompt.label": ("System prompt", "系统提示词"),
    "chat.system_prompt.help": (
        "Instructions the model sees before the conversation. Empty uses the run's system prompt "
        "(model.system_prompt), the one it was trained with.",
        "模型在对话开始前看到的指令。留空则使用本次运行的系统提示词（model.system_prompt），即训练时所用的那个。"),
    "chat.temperature.label": ("Temperature", "温度"),
    "chat.temperature.help": (
        "Randomness of the answer; 0 always picks the most likely word (greedy).",
        "回答的随机程度；0 总是选最可能的词（贪心解码）。"),
    "chat.top_p.label": ("Top-p", "Top-p"),
    "chat.top_p.help": (
        "Sample only from the most likely words whose probabilities add up to this.",
        "只从概率累加达到此值的最可能的词中采样。"),
    "chat.max_new_tokens.label": ("Max new tokens", "最大生成词元数"),
    "chat.max_new_tokens.help": ("Longest answer, in tokens.", "回答的最大长度，以词元（token）计。"),
    "chat.votes.label": ("Votes", "投票次数"),
    "chat.votes.help": (
        "Sample this many answers and show the most common final answer with its vote count (majority voting). 1 "
        "answers once. With temperature 0 the samples use 0.7.",
        "采样这么多个回答，显示出现最多的最终答案及其票数（多数投票）。1 表示只回答一次。温度为 0 时，采样使用 0.7。"),
    "chat.answer_pattern.label": ("Answer pattern", "答案提取模式"),
    "chat.answer_pattern.help": (
        "Regular expression that finds the final answer in a reply (its first group); votes and exact-match "
        "evaluation compare what it finds. Where it finds nothing, the whole reply is compared. Empty compares whole "
        "replies.",
        "用于在回答中找出最终答案的正则表达式（取第一个分组）；投票和精确匹配评估都比较它找到的内容。找不到时比较整个"
        "回答。留空则比较整个回答。"),
    # ---- what each training method does, one line shown beside train.method
    "method.sft": (
        "Supervised fine-tuning: the model learns to write the answers in your data, word for word.",
        "监督微调：模型学习逐字写出数据中的回答。"),
    "method.dpo": (
        "Direct preference optimization: for each question the model learns to prefer the chosen answer over the "
        "rejected one, measured against the base model, which keeps it close to what it was.",
        "直接偏好优化：对每个问题，模型学会更偏好 chosen 回答而不是 rejected "
        "回答，并以基础模型为参照，从而保持接近原来的样子。"),
    "method.orpo": (
        "ORPO: supervised fine-tuning on the chosen answers plus a push away from the rejected ones, in one step and "
        "without a reference model.",
        "ORPO：在 chosen 回答上做监督微调，同时远离 rejected 回答，一步完成，无需参考模型。"),
    "method.kto": (
        "KTO: answers marked good (desirable) or bad (undesirable) one by one, no pairs needed; the model moves "
        "towards the good ones and away from the bad ones.",
        "KTO：逐条标注为好（desirable）或坏（undesirable）的回答，无需成对；模型靠近好的、远离坏的。"),
    "method.grpo": (
        "GRPO: for each question the model samples several answers; those that the rewards score higher than the "
        "others (a right answer, the right format) become more likely. Needs questions with reference answers, no "
        "written-out solutions.",
        "GRPO：模型对每个问题采样几个回答；奖励打分高于其他回答的（答案正确、格式正确）会变得更可能出现。需要带参考答案"
        "的问题，不需要写好的解答过程。"),
    "method.cpt": (
        "Continued pretraining: the model reads your raw text (split into blocks of max length) and learns its words "
        "and facts; no questions and answers needed.",
        "继续预训练：模型阅读你的原始文本（按最大长度切成块），学习其中的词语和知识；不需要问答。"),
}
