"""The interface's fixed words (tabs, buttons, headings): gr.I18n shows them in the browser's language."""

TEXTS = {
    "app.title": ("# Finetune Studio", "# Finetune Studio 微调工作室"),
    "app.subtitle": (
        "Fine-tune a language model with LoRA on this machine: pick data, check the model, train, then chat with the "
        "result. The defaults work as they are.",
        "在本机用 LoRA 微调语言模型：选数据、看模型、训练，然后与结果对话。默认设置即可直接使用。"),
    "tab.quick": ("Quick start", "快速开始"),
    "quick.intro": (
        "Three choices, then it trains with settings that work: your data, the model, go. Everything else is on tabs "
        "1-6, one click away, each option with one plain sentence.",
        "三步即可开始，使用可靠的默认设置训练：选数据、选模型、开始。其他所有选项都在第 1-6 "
        "页，一点即到，每个选项都有一句说明。"),
    "quick.data": ("1. Your data: the bundled identity demo…", "1. 数据：内置的身份演示……"),
    "quick.upload": (
        "…or your own file (JSONL, JSON, CSV, Parquet, TXT)",
        "……或你自己的文件（JSONL、JSON、CSV、Parquet、TXT）"),
    "sample.identity": (
        "Identity demo: Nova by Lumen Labs (English + 中文, 104 rows)",
        "身份演示：Lumen Labs 的 Nova（English + 中文，104 行）"),
    "quick.model": ("2. The model to fine-tune", "2. 要微调的模型"),
    "quick.go": ("3. Go: start training", "3. 开始训练"),
    "quick.what_you_get": ("### What this run will do", "### 这次训练会做什么"),
    "quick.working_out": (
        "⏳ Working it out: reading the data and loading the model's tokenizer (a few seconds) …",
        "⏳ 正在计算：读取数据并加载模型的分词器（需要几秒）……"),
    "quick.more": (
        "The data as the model sees it is on tab 1; watch the loss and the answers change on tab 4; talk to the "
        "result on tab 5.",
        "第 1 页可以看到模型实际看到的数据；第 4 页可以看损失和回答的变化；第 5 页可以与训练结果对话。"),
    "tab.data": ("1. Data", "1. 数据"),
    "data.intro": (
        "Upload a JSONL, JSON, CSV, Parquet or TXT file, or pick the bundled sample.",
        "上传 JSONL、JSON、CSV、Parquet 或 TXT 文件，或选择内置示例。"),
    "data.upload": ("Upload a dataset (drag and drop)", "上传数据集（可拖放）"),
    "data.sample": ("…or use a bundled sample", "……或使用内置示例"),
    "data.preview": ("First rows as a table", "前几行（表格）"),
    "data.example": (
        "The example exactly as the model sees it (chat template applied)",
        "模型实际看到的样本（已套用对话模板）"),
    "data.not_used": ("(not used)", "（不使用）"),
    "data.mapping": ("Column mapping", "列映射"),
    "data.mapping_help": (
        "Which of the file's columns holds what. Leave “(not used)” where the usual name fits; the mapping is saved "
        "with the run's settings.",
        "指定文件中的哪一列对应哪个字段。名称已是常用名称时保持“（不使用）”即可；映射会随运行设置一起保存。"),
    "data.placeholders_help": (
        "**Placeholders** in the data: give each a value, or the model learns the braces.",
        "**数据中的占位符**：请为每个占位符填写值，否则模型会把花括号当作文字学习。"),
    "data.eval_upload": ("Upload a held-out file", "上传留出数据文件"),
    "data.all_rows": ("All rows", "全部行"),
    "data.show_rows": ("Show rows with", "只看这些行"),
    "data.previous": ("◀ Previous", "◀ 上一个"),
    "data.next": ("Next ▶", "下一个 ▶"),
    "data.random": ("Random", "随机"),
    "data.row": ("Row", "行号"),
    "data.lengths": ("Tokens per row", "每行的词元数"),
    "data.problems": ("Rows that cannot be used", "无法使用的行"),
    "data.raw": ("The row as it is in the file (click a problem above)", "文件中该行的原文（点击上方的问题）"),
    "tab.model": ("2. Model and hardware", "2. 模型与硬件"),
    "model.check_placement": ("Load and show where the layers go", "加载模型并查看各层的位置"),
    "model.hardware": ("### This machine", "### 本机硬件"),
    "model.compute": ("### GPUs for the run", "### 训练使用的 GPU"),
    "model.doctor": ("Check this machine (doctor)", "检查本机环境（doctor）"),
    "tab.settings": ("3. LoRA and training", "3. LoRA 与训练"),
    "settings.preset": ("Preset", "预设"),
    "settings.preset_help": (
        "Sets epochs, rank and max length together; 'balanced' is the default.",
        "一次设置训练轮数、秩和最大长度；默认为“均衡”。"),
    "preset.quick": ("Quick demo", "快速演示"),
    "preset.balanced": ("Balanced", "均衡"),
    "preset.thorough": ("Thorough", "充分"),
    "settings.lora": ("### LoRA adapter", "### LoRA 适配器"),
    "settings.find_layers": ("Find the layers in this model", "查找该模型中的层"),
    "settings.training": ("### Training", "### 训练"),
    "settings.more": ("More training options", "更多训练选项"),
    "settings.save": ("Save settings as YAML", "将设置保存为 YAML"),
    "settings.load": ("Load settings from YAML", "从 YAML 加载设置"),
    "settings.command": ("The same run from the command line", "在命令行中运行同样的训练"),
    "settings.saved_file": ("Settings file", "设置文件"),
    "settings.check_fit": ("Check fit: two real steps on the longest rows", "检查能否装下：在最长的样本上实际训练两步"),
    "settings.apply_fit": ("Use the proposed settings", "采用建议的设置"),
    "tab.train": ("4. Train", "4. 训练"),
    "train.start": ("Start training", "开始训练"),
    "train.stop": ("Stop (saves the adapter)", "停止（会保存适配器）"),
    "train.resume": ("Resume the run shown", "继续当前显示的运行"),
    "queue.panel": ("Queued runs", "排队的运行"),
    "queue.pick": ("Queued run", "排队的运行"),
    "queue.up": ("Up", "上移"),
    "queue.down": ("Down", "下移"),
    "queue.remove": ("Remove from queue", "移出队列"),
    "queue.resume_held": ("Resume the interrupted run", "继续被中断的运行"),
    "queue.skip_held": ("Skip it, start the next queued run", "跳过它，开始下一个排队的运行"),
    "settings.queue_chain": ("Queue the chain", "将训练链加入队列"),
    "train.chart": ("Loss", "损失"),
    "train.log": ("Log", "日志"),
    "train.log_english": ("Log (in English, for diagnosis)", "日志（英文，供排查问题）"),
    "app.language": ("Language", "语言"),
    # Gradio's own words its tables lack (webui/i18n.py GRADIO_KEYS): said by Gradio's status tracker, chat and tables
    "common.complete": ("Complete", "完成"),
    "common.progress": ("Progress", "进度"),
    "common.download_all": ("Download all", "全部下载"),
    "common.upload": ("Upload", "上传"),
    "dataframe.filter": ("Filter", "筛选"),
    "dataframe.clear_filter": ("Clear filters", "清除筛选"),
    "chatbot.copy_message": ("Copy message", "复制消息"),
    "chatbot.copied_message": ("Copied message", "已复制消息"),
    "status.queue_position": ("In queue: {position} of {size}", "排队中：第 {position} 位，共 {size} 位"),
    "train.history": ("Past runs", "历史运行"),
    "train.pick_run": ("Show a past run", "查看历史运行"),
    "train.probes": (
        "Probe answers: the base model, then the adapter at each evaluation",
        "探针回答：先是基础模型，然后是每次评估时的适配器"),
    "train.compare": ("Compare runs", "比较运行"),
    "train.compare_pick": ("Runs to compare (two or more)", "要比较的运行（两个或更多）"),
    "train.compare_sweep": ("Compare a sweep: pick it to select its runs",
                            "比较一次参数扫描：选中它即选中它的全部运行"),
    "train.sweep": ("Sweep: one run per value", "参数扫描：每个取值一次运行"),
    "train.sweep_option": ("Option to sweep", "要扫描的选项"),
    "train.sweep_values": ("Its values, separated by commas", "它的取值，用逗号分隔"),
    "train.sweep_confirm": ("Queue more than 12 runs", "确认加入超过 12 次运行"),
    "train.sweep_queue": ("Queue the runs", "将这些运行加入队列"),
    "train.use_best": ("Use the best checkpoint as the run's adapter", "将最佳检查点用作本次运行的适配器"),
    "tab.chat": ("5. Chat", "5. 对话"),
    "chat.model": ("Talk to", "对话对象"),
    "chat.refresh": ("Refresh the list", "刷新列表"),
    "chat.adapter_on": ("Adapter on (off = the base model)", "启用适配器（关闭即为基础模型）"),
    "chat.side_by_side": (
        "Side by side: tuned and base answer the same prompt",
        "并排对比：微调后与基础模型回答同一问题"),
    "chat.tuned": ("Fine-tuned", "微调后"),
    "chat.base": ("Base model", "基础模型"),
    "chat.placeholder": ("Ask something, e.g. “Who are you?”", "问点什么，例如“你是谁？”"),
    "chat.voting": ("Majority voting (for answers you can check)", "多数投票（用于可核对的答案）"),
    "chat.send": ("Send", "发送"),
    "chat.clear": ("Clear", "清空"),
    "chat.open_demo": ("Open demo ↗ (a page to show this model)", "打开演示页 ↗（用于展示该模型）"),
    "demo.which": ("Answer with", "回答者"),
    "demo.tuned": ("The fine-tuned model", "微调后的模型"),
    "demo.base": ("The base model (before fine-tuning)", "基础模型（微调前）"),
    "demo.stop": ("Stop", "停止"),
    "demo.examples": ("Try one of these", "试试这些问题"),
    "demo.settings": ("Answer settings", "回答设置"),
    "demo.edit": ("Edit the title and description", "编辑标题和说明"),
    "demo.title": ("Title", "标题"),
    "demo.description": ("Description (Markdown)", "说明（Markdown）"),
    "demo.save": ("Save", "保存"),
    "tab.evaluate": ("6. Evaluate and export", "6. 评估与导出"),
    "eval.intro": (
        "Did it learn? Score the base model and the fine-tuned one on a labelled test file: loss, perplexity and, "
        "for rows with a reference answer, exact match. Then export the result.",
        "学到了吗？在带标注的测试文件上为基础模型和微调后的模型打分：损失、困惑度，以及对有参考答案的行计算精确匹配率"
        "。然后导出结果。"),
    "eval.run": ("Fine-tuned run", "微调运行"),
    "eval.file": ("Test file (rows with the expected answer)", "测试文件（含期望答案的行）"),
    "eval.use_bundled": (
        "Use the bundled test file for the identity demo (9 new questions)",
        "使用内置的身份演示测试文件（9 个新问题）"),
    "eval.max_rows": ("Rows to score (0 = all)", "评估行数（0 = 全部）"),
    "eval.original_base": ("Compare with the original base model", "与最初的基础模型比较"),
    "eval.original_base_help": (
        "This run started from another run, so 'base' is that run's result. Tick to score the model at the bottom "
        "of the chain instead; it is loaded beside the tuned one for the evaluation (two models in memory).",
        "本运行以另一个运行为起点，因此“基础模型”是那个运行的结果。勾选后改为评估链条最底层的模型；"
        "评估期间它与微调后的模型同时加载（内存中有两个模型）。"),
    "eval.start": ("Evaluate base vs tuned", "评估：基础模型 vs 微调后"),
    "eval.summary": ("Base vs tuned", "基础模型 vs 微调后"),
    "eval.changed": ("Rows whose correctness changed", "正误发生变化的行"),
    "eval.all_rows": ("Every row, both answers", "所有行及两种回答"),
    "eval.export_heading": ("### Export", "### 导出"),
    "eval.export_zip": ("Download the adapter as a zip", "下载适配器（zip）"),
    "eval.export_merged": ("Export a merged model folder and check it", "导出合并后的模型文件夹并校验"),
    "eval.zip_file": ("Adapter zip", "适配器 zip"),
    "eval.export_gguf": (
        "Export a GGUF file and check it (llama.cpp, LM Studio, Ollama)",
        "导出 GGUF 文件并校验（llama.cpp、LM Studio、Ollama）"),
    "eval.gguf_type": ("GGUF number format", "GGUF 数值格式"),
    "eval.gguf_type_help": (
        "auto: bf16 for a model that trained in bf16, f16 otherwise (llama.cpp's own choice); q8_0 is half the size "
        "of f16 and answers almost the same.",
        "auto：以 bf16 训练的模型用 bf16，否则用 f16（与 llama.cpp 的默认一致）；q8_0 的大小是 f16 "
        "的一半，回答几乎相同。"),
    "eval.merged_zip": ("Merged model (zip)", "合并后的模型（zip）"),
    "eval.gguf_file": ("GGUF file", "GGUF 文件"),
    "eval.send_ollama": (
        "Send to Ollama (ollama create, then a one-line test)",
        "发送到 Ollama（ollama create，然后做一次简短测试）"),
    "eval.check": (
        "Export check: greedy answers, merged vs in-app adapter",
        "导出校验：合并模型与应用内适配器的贪心回答对比"),
    # webui/answer_file.py: "Answer a test file", built into the Evaluate tab
    "answers.heading": ("Answer a test file (no reference answers needed)", "回答测试文件（无需参考答案）"),
    "answers.intro": (
        "Answers every row of a test file with the run's model, pulls each answer out with the answer pattern, and "
        "keeps the majority of the votes. The answers go into the run's folder, `answers/<file name>.jsonl` (one "
        "row per input: id, answer, votes, every text) and `.csv` (id, answer, for a contest submission). Rows "
        "whose answer the pattern cannot find are listed, never guessed. Pressing the button again on the same file "
        "resumes: the rows already answered are kept.",
        "用该运行的模型回答测试文件的每一行，用答案提取模式取出答案，并取多次投票的多数。回答写入运行文件夹中的 "
        "`answers/<文件名>.jsonl`（每个输入一行：id、答案、票数和全部回答原文）和 `.csv`（id、答案，用于竞赛提交"
        "）。答案提取模式找不到答案的行会被列出，绝不猜测。对同一文件再次点击按钮会接着回答：已回答的行保留。"),
    "answers.file": ("Test file (questions; answers not needed)", "测试文件（只需问题，不需答案）"),
    "answers.start_over": (
        "Start again from the first row (this file's answers so far are deleted)",
        "从第一行重新开始（删除该文件已有的回答）"),
    "answers.start": ("Answer every row", "回答每一行"),
    "answers.first_rows": ("The first rows' answers", "前几行的答案"),
    "answers.unanswered": ("Rows with no answer (the pattern found none)", "没有答案的行（答案提取模式未找到）"),
    "answers.jsonl_file": ("Answers (.jsonl, with every text)", "回答（.jsonl，含全部原文）"),
    "answers.csv_file": ("Submission (.csv: id, answer)", "提交文件（.csv：id, answer）"),
}
