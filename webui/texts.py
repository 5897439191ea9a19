"""Chinese for texts core/ still writes in English (being replaced by keyed messages in core/catalogue)."""

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
     "根据字段 `{fields}` 识别出格式“{format}”。"),
    (r"^(?P<name>.+) is (?P<size>[\d.]+) GB; it is read item by item\.$", "{name} 大小为 {size} GB；将逐条读取。"),
    (r"^The file holds a single row \(one JSON object\), not a list of rows\.$",
     "该文件只有一行（一个 JSON 对象），而不是由多行组成的列表。"),
    (r'^The file is a JSON object; used the list of rows under the key "(?P<key>[^"]+)"\.$',
     "该文件是一个 JSON 对象；使用了键“{key}”下的行列表。"),
    (r"^The text file has no blank lines, so each line is one row\.$", "该文本文件没有空行，因此每一行是一条数据。"),
    (r"^Read the text file as paragraphs separated by blank lines; each paragraph is one row\.$",
     "按空行把文本文件分成段落；每段是一条数据。"),
    (r"^(?P<count>\d+) more skipped rows are not listed\.$", "另有 {count} 个跳过的行未列出。"),
    # the run's status line (core/jobs.py, core/training)
    (r"^Starting \.\.\.$", "正在启动……"),
    (r"^Reading the dataset \.\.\.$", "正在读取数据集……"),
    (r"^Loading the base model \.\.\.$", "正在加载基础模型……"),
    (r"^Writing (?P<n>\d+) knowledge-replay answers with the base model \.\.\.$",
     "正在用基础模型写 {n} 条知识回放回答……"),
    (r"^Writing knowledge-replay answers with the base model: (?P<k>\d+) of (?P<n>\d+) \.\.\.$",
     "正在用基础模型写知识回放回答：已完成 {k} / {n} 条……"),
    (r"^Training: (?P<n>\d+) steps\.$", "训练：共 {n} 步。"),
    (r"^Stopping after step (?P<n>\d+) \.\.\.$", "将在第 {n} 步后停止……"),
    (r"^Stopping at the end of this step \.\.\.$", "将在本步结束时停止……"),
    (r"^Completed (?P<n>\d+) steps; adapter saved\.$", "已完成 {n} 步；适配器已保存。"),
    (r"^Stopped at step (?P<n>\d+); adapter saved\.$", "已在第 {n} 步停止；适配器已保存。"),
    (r"^Stopped before the first step finished; nothing was saved\.$", "在第一步完成前就停止了；没有保存任何内容。"),
    # progress lines of the slow steps (core/models, core/measure): the wait says what it is doing
    (r"^Estimating memory from the model's config \.\.\.$", "正在根据模型配置估算内存……"),
    (r"^Two steps with your settings \.\.\.$", "正在用你的设置实际训练两步……"),
    (r"^Two steps with (?P<changes>.+) \.\.\.$", "正在用 {changes} 实际训练两步……"),
    (r"^Loading (?P<model>.+) \((?P<dtype>[^,]+), quantization (?P<q>[^)]+)\) \.\.\.$",
     "正在加载 {model}（{dtype}，量化 {q}）……"),
    (r"^First use of (?P<name>.+): downloading (?P<packages>.+) \((?P<mb>\d+) MB\) with pip \.\.\.$",
     "首次使用 {name}：正在用 pip 下载 {packages}（{mb} MB）……"),
    (r"^Checking its sha256 \.\.\.$", "正在校验 sha256……"),
    (r"^Converting (?P<name>.+) to safetensors \((?P<note>.+), once\) \.\.\.$",
     "正在把 {name} 转换为 safetensors（{note}，只需一次）……"),
    (r"^Reading the (?P<name>.+) tokenizer \.\.\.$", "正在读取 {name} 的分词器……"),
    (r"^Loading the model \.\.\.$", "正在加载模型……"),
    (r"^Row (?P<k>\d+)/(?P<n>\d+) \.\.\.$", "第 {k}/{n} 行……"),
    # why a device map is not offered (core/models/devices.py)
    (r"^needs two or more GPUs$", "需要两个或更多 GPU"),
    (r"^needs a GPU$", "需要 GPU"),
    # compute plan reasons (core/models/compute.py)
    (r"^auto: no GPU chosen, so one process on the CPU$", "auto：没有选择 GPU，因此在 CPU 上用一个进程"),
    (r"^auto: one GPU chosen, GPU (?P<n>\d+) with (?P<gb>\d+) GiB free$", "auto：选择了一个 GPU，GPU {n} 空闲 {gb} GiB"),
    (r"^set in compute.strategy$", "在 compute.strategy 中设置"),
    (r"^CPU, single$", "CPU，单进程"),
    (r"^Merging the adapter into the base weights \.\.\.$", "正在把适配器合并进基础权重……"),
    (r"^Export check: the merged folder and the in-app adapter \((?P<dtype>[^,]+), same placement\) answer the probe "
     r"prompts \.\.\.$", "导出校验：合并后的文件夹与应用内适配器（{dtype}，相同位置）回答探针提示……"),
    (r"^Export check: the GGUF \(through transformers' GGUF loader\) and the in-app adapter, both in (?P<dtype>.+), "
     r"answer the probe prompts \.\.\.$", "导出校验：GGUF（经 transformers 的 GGUF 加载器）与应用内适配器（都为 {dtype}）"
     "回答探针提示……"),
    (r"^Converting to GGUF \((?P<what>.+)\) with llama.cpp's converter \.\.\.$", "正在用 llama.cpp 的转换器转换为 GGUF（{what}）……"),
    (r"^Export check: (?P<k>\d+) of (?P<n>\d+) probe answers identical\.$", "导出校验：{n} 个探针回答中有 {k} 个完全相同。"),
    (r"^Merged model saved to (?P<path>.+)$", "合并后的模型已保存到 {path}"),
    (r"^GGUF saved to (?P<path>.+)$", "GGUF 已保存到 {path}"),
    (r"^Aborted at step (?P<n>\d+) without saving; Resume continues from the last complete checkpoint\.$",
     "在第 {n} 步中止，未保存；“继续”会从最近一个完整的检查点开始。"),
]
