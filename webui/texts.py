"""Every text a handler computes, in English and Simplified Chinese: one entry per text, both languages side by side.

Keys are read by webui/lang.say(). Fields in braces are filled with str.format, so a figure is formatted the same way
in both languages. Texts that come from core/ in English (a data warning, a note on the file) are translated by
their kind in CORE_ZH, with the same figures core put in the English sentence.
"""

TEXTS = {
    # ---- Data tab
    "data.choose": ("Choose a dataset: upload a file, pick the bundled sample, or type a path.",
                    "请选择数据集：上传文件、选择内置示例，或输入路径。"),
    "data.cannot_inspect": ("**Cannot inspect the data yet.** {error}", "**暂时无法检查数据。** {error}"),
    "data.cannot_use": ("**Cannot use this file.** {error}", "**无法使用该文件。** {error}"),
    "data.read_failed": ("**Cannot use this file.** Reading {path} failed: {error}. Check the file (or pick another "
                         "format), and see the terminal for details.",
                         "**无法使用该文件。** 读取 {path} 失败：{error}。请检查文件（或选择其他格式），详情见终端。"),
    "data.map_hint": (" Say which column holds what under Column mapping, on the left; the file's columns are {columns}.",
                      " 请在左侧“列映射”中指定各列的含义；文件中的列为 {columns}。"),
    "data.summary": ("**{format}** · {rows:,} usable rows of {total:,}", "**{format}** · 共 {total:,} 行，{rows:,} 行可用"),
    "data.skipped": (" · **{skipped:,} skipped** (see Rows that cannot be used, below)",
                     " · **跳过 {skipped:,} 行**（见下方“无法使用的行”）"),
    "data.alternatives": ("- The fields would also fit: {names}. If \"{format}\" is wrong, choose the format above or "
                          "map the columns.",
                          "- 这些字段也符合：{names}。如果“{format}”不对，请在上方选择格式或映射列。"),
    "data.placeholders_used": ("- Placeholders: {used}. ", "- 占位符：{used}。"),
    "data.placeholder_rows": ("{name} in {count} rows", "{name} 出现在 {count} 行"),
    "data.placeholders_missing": ("Give their values under Placeholders, on the left.", "请在左侧“占位符”中填写它们的值。"),
    "data.placeholders_filled": ("All have values (data.placeholders).", "都已有值（data.placeholders）。"),
    "data.no_warnings": ("No warnings: every checked row fits max length, has its end-of-turn token and appears once.",
                         "没有警告：每个检查过的行都不超过最大长度、带有轮次结束标记，且没有重复。"),
    "data.warning_rows": (" Rows: {rows}{more}.", " 行：{rows}{more}。"),
    "data.more_rows": (" and {count} more", " 等另外 {count} 行"),
    "data.warning_filter": ("{name}: {count:,} rows", "{name}：{count:,} 行"),
    "data.warning_filter_one": ("{name}: 1 row", "{name}：1 行"),
    "data.all_rows": ("All rows", "全部行"),
    "data.problems_title": ("Rows that cannot be used ({count:,})", "无法使用的行（{count:,}）"),
    "data.where": ("where", "位置"),
    "data.problem": ("problem", "问题"),
    "data.placeholder_slot": ("{name} (in {count:,} rows)", "{name}（出现在 {count:,} 行）"),
    "data.needs_tokenizer": ("The statistics and the example need the tokenizer of the model on tab 2 ({source}): "
                             "{error}", "统计信息和样本展示需要第 2 页所选模型（{source}）的分词器：{error}"),
    "data.held_out_bad": ("\n\n**The held-out file cannot be used.** {error} Fix it, or clear data.eval_path.",
                          "\n\n**留出数据文件无法使用。** {error} 请修正它，或清空 data.eval_path。"),
    "data.template_bad": ("The rows cannot be checked with this model's chat template: {error}",
                          "无法用该模型的对话模板检查这些行：{error}"),
    "data.split": ("Split: {train:,} training rows, {held_out:,} held-out{separate}{replay}.",
                   "划分：{train:,} 行用于训练，{held_out:,} 行留出{separate}{replay}。"),
    "data.split_separate": (" (from the separate held-out file)", "（来自单独的留出文件）"),
    "data.split_replay": ("; plus up to {rows:,} knowledge-replay rows", "；另加至多 {rows:,} 行知识回放数据"),
    "data.tokens": ("Tokens per row{sample}: median {median:,.0f}, longest {longest:,} (max length {max_length:,}); "
                    "{share:.0f}% of the tokens the model sees carry loss.",
                    "每行词元数{sample}：中位数 {median:,.0f}，最长 {longest:,}（最大长度 {max_length:,}）；"
                    "模型看到的词元中有 {share:.0f}% 参与训练（计入损失）。"),
    "data.tokens_sample": (" (from the first {rows:,} rows)", "（取自前 {rows:,} 行）"),
    "data.steps": ("Steps: {per_epoch:,} per epoch, {total:,} in all; about {tokens:,} trained tokens per epoch.",
                   "步数：每轮 {per_epoch:,} 步，共 {total:,} 步；每轮约训练 {tokens:,} 个词元。"),
    "data.partial": ("These figures cover the first {rows:,} rows; the file holds more, and training reads it all.",
                     "以上数字只统计了前 {rows:,} 行；文件中还有更多行，训练时会全部读取。"),
    "data.time": ("Time: about {per_epoch} per epoch on this machine, at the speed run '{run}' measured.",
                  "时间：按运行“{run}”测得的速度，在本机每轮约 {per_epoch}。"),
    "data.time_unknown": ("Time: known after a first run of this model on this machine (its speed is measured then).",
                          "时间：本机第一次用该模型训练后即可得知（届时会测量速度）。"),
    # ---- the Data tab's example viewer
    "viewer.position": ("Row **{row:,}** of {rows:,} ({where})", "第 **{row:,}** 行，共 {rows:,} 行（{where}）"),
    "viewer.in_warning": (" · {k} of {n} rows with this warning", " · 该警告涉及的 {n} 行中的第 {k} 行"),
    "viewer.counts": ("{total:,} tokens, {trained:,} trained", "{total:,} 个词元，其中 {trained:,} 个参与训练"),
    "viewer.cut": (", {cut:,} cut (beyond max length {max_length:,}; the model never sees them)",
                   "，截掉 {cut:,} 个（超出最大长度 {max_length:,}；模型看不到它们）"),
    "viewer.trained": ("trained (carries loss)", "参与训练（计入损失）"),
    "viewer.masked": ("seen, not trained", "可见，不参与训练"),
    "viewer.cut_legend": ("cut at max length", "超出最大长度被截掉"),
    "viewer.rejected": ("Rejected answer (what the model should prefer less):", "被拒绝的回答（模型应较少采用）："),
    "viewer.cannot_show": ("This row cannot be shown with the chat template of the model on tab 2 ({source}): {error}. "
                           "Pick another model there, or check the row.",
                           "无法用第 2 页所选模型（{source}）的对话模板显示该行：{error}。请在那里换一个模型，或检查该行。"),
    # ---- charts
    "chart.step": ("step", "步数"),
    "chart.loss": ("loss", "损失"),
    "chart.train_loss": ("train loss", "训练损失"),
    "chart.held_out_loss": ("held-out loss", "留出集损失"),
    "chart.learning_rate": ("learning rate", "学习率"),
    "chart.gpu_memory": ("GPU {gpu} memory (GiB)", "GPU {gpu} 显存（GiB）"),
    "chart.gib_allocated": ("GiB allocated", "已分配 GiB"),
    "chart.tokens_per_row": ("tokens per row", "每行词元数"),
    "chart.rows": ("rows", "行数"),
    "chart.max_length": ("max length {max_length}", "最大长度 {max_length}"),
    "chart.bin_hover": ("%{{customdata[0]}}-%{{customdata[1]}} tokens: %{{y}} rows",
                        "%{{customdata[0]}}-%{{customdata[1]}} 个词元：%{{y}} 行"),
    # ---- Train tab
    "train.no_run": ("No run yet. Start one with the defaults, or adjust the tabs before.",
                     "还没有运行。可以直接用默认设置开始，或先调整前面几页。"),
    "train.step": ("step {step}/{total}", "第 {step}/{total} 步"),
    "train.elapsed": ("elapsed {clock}", "已用 {clock}"),
    "train.eta": ("ETA {clock}", "预计还需 {clock}"),
    "train.throughput": ("{rate:.0f} trained tokens/s", "每秒训练 {rate:.0f} 个词元"),
    "train.gpu_per_gpu": ("{per_gpu} allocated (peak since the previous point)", "{per_gpu} 已分配（自上一点以来的峰值）"),
    "train.gpu_peak": ("GPU memory peak {gb:.1f} GiB", "显存峰值 {gb:.1f} GiB"),
    "train.no_gpu": ("no GPU in use", "未使用 GPU"),
    "train.started": ("Started run **{name}**.", "已开始运行 **{name}**。"),
    "train.name_taken": (" (The name {name} was taken.)", "（名称 {name} 已被占用。）"),
    "train.pick_to_resume": ("Pick a run to resume (Past runs, below).", "请选择要继续的运行（见下方“历史运行”）。"),
    "train.resuming": ("Resuming run **{name}** from its last checkpoint.", "正在从最近的检查点继续运行 **{name}**。"),
    "train.stopping": ("Stopping at the end of this step ...", "将在本步结束时停止……"),
    "train.none_running": ("No run is in progress.", "当前没有正在进行的运行。"),
    "train.pick_first": ("Pick a run first.", "请先选择一个运行。"),
    "train.wait_for_end": ("Wait for the run to finish; its adapter is written at the end.",
                           "请等待运行结束；适配器会在结束时写入。"),
    "train.best_banner": ("**Held-out loss has risen for {rises} evaluations since step {step}** (its lowest, "
                          "{loss:.4f}): later steps are memorising the training rows.",
                          "**自第 {step} 步（留出集损失最低，{loss:.4f}）以来，留出集损失已连续 {rises} 次评估上升**："
                          "之后的训练在死记训练数据。"),
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
    "probes.latest": ("latest (step {step})", "最新（第 {step} 步）"),
    # run states, as the status line and the past-runs table show them
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

# Chinese for texts whose English comes from core/ (DataWarning.message, by its kind, with DataWarning.values).
CORE_ZH = {
    "warn.no_template": "该模型没有自带对话模板（是基础模型），因此使用 {layout} 轮次格式；它会从你的数据中学会这种格式。"
                        "用 -Instruct 模型，学会新行为所需的数据更少。",
    "warn.too_long": "{rows:,} 行超过最大长度 {max_length} 个词元；其末尾共 {cut_tokens:,} 个词元会被截掉（最长的一行有 "
                     "{longest:,} 个）。请调大最大长度，或缩短这些行。",
    "warn.all_cut": "{rows:,} 行中所有要学习的词元都被截掉了；训练时会跳过它们。",
    "warn.no_eos.no_eos_token": "{rows:,} 行中有回答在训练时没有轮次结束标记（分词器没有结束标记）；模型学不会在那里停下，"
                                "可能会说个不停。",
    "warn.no_eos.cut": "{rows:,} 行中有回答在训练时没有轮次结束标记（被最大长度截掉了）；模型学不会在那里停下，可能会说个不停。",
    "warn.thinking": "{rows:,} 行中，模型的对话模板省略了回答里的思考部分（<think> ... </think>），只训练其后的文字"
                     "（DeepSeek-R1 的模板对每个回答都这样，Qwen3 的模板只保留最后一个）。",
    "warn.template": "{rows:,} 行被模型的对话模板拒绝（{reason}）；训练时会跳过它们。请修正它们的角色，或换一个模型。",
    "warn.duplicate": "{rows:,} 行与前面某行完全相同；重复会加大该样本的权重。除非你有意如此，请删除它们。",
    "warn.foreign_markup": "{rows:,} 行的文本中含有对话标记 {marker}。模型自己的对话模板会再套一层，模型会把这些标记当作文字学习。"
                           "请从数据中删除它们（只保留消息文字）。",
    "warn.placeholder": "{rows:,} 行使用了 {names} 但没有给出值；请填写，否则模型会把花括号当作文字学习。填好之前无法开始训练。",
    "warning.too_long": "过长",
    "warning.all_cut": "截断后无可学习内容",
    "warning.no_eos": "缺少轮次结束标记",
    "warning.duplicate": "重复",
    "warning.foreign_markup": "其他对话标记",
    "warning.placeholder": "未填写的占位符",
    "warning.no_template": "没有对话模板",
    "warning.template": "被对话模板拒绝",
    "warning.thinking": "思考部分被省略",
}

# Notes core/data writes about a file, matched by their English wording (group names are the figures).
NOTE_PATTERNS_ZH = [
    (r'^Detected format "(?P<format>[^"]+)" from the fields (?P<fields>.+)\.$',
     "根据字段 {fields} 识别出格式“{format}”。"),
    (r"^(?P<name>.+) is (?P<size>[\d.]+) GB; it is read item by item\.$", "{name} 大小为 {size} GB；将逐条读取。"),
    (r"^The file holds a single row \(one JSON object\), not a list of rows\.$",
     "该文件只有一行（一个 JSON 对象），而不是由多行组成的列表。"),
    (r'^The file is a JSON object; used the list of rows under the key "(?P<key>[^"]+)"\.$',
     "该文件是一个 JSON 对象；使用了键“{key}”下的行列表。"),
    (r"^The text file has no blank lines, so each line is one row\.$", "该文本文件没有空行，因此每一行是一条数据。"),
    (r"^Read the text file as paragraphs separated by blank lines; each paragraph is one row\.$",
     "按空行把文本文件分成段落；每段是一条数据。"),
    (r"^(?P<count>\d+) more skipped rows are not listed\.$", "另有 {count} 个跳过的行未列出。"),
]
