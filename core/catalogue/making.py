"""Messages of core/making: teachers, recipes and the batch that makes data; the labels and help lines of its
options (core/making/config.py) under 'making.<section>.<option>.label' / '.help'."""

TEXTS: dict[str, tuple[str, str]] = {
    # ---- the studio's Make data tab (webui/tab_make_data.py, webui/make_review.py) -----------------------------
    "tab.make": ("0. Make data", "0. 制作数据"),
    "make.intro": (
        "No dataset yet, or too few rows? Let a stronger model (a teacher) write them: it answers your questions, "
        "explains known answers step by step, writes new tasks like a few examples, or asks and answers questions "
        "about your documents. Preview 5 rows, run the batch, read and fix the rows, then train on them.",
        "还没有数据集，或者行数太少？让一个更强的模型（教师模型）来写：回答你的问题、逐步解释已知答案、"
        "仿照几个示例写出新任务，或根据你的文档提问并作答。"
        "先预览 5 行，再运行整批，阅读并修改这些行，然后用它们训练。"),
    "make.teacher": ("### The teacher", "### 教师模型"),
    "make.api_key": ("API key (this session only)", "API 密钥（仅限本次会话）"),
    "make.api_key_help": (
        "Typed here, the key stays in this page and is handed to the teacher with each request: it is never saved "
        "to a file, a config or a dataset. Leave empty to use the environment variable below.",
        "在此输入的密钥只保存在本页面中，随每个请求交给教师模型：绝不会写入任何文件、配置或数据集。"
        "留空则使用下方的环境变量。"),
    "make.test": ("Test connection", "测试连接"),
    "make.connected": ("✅ The teacher answered in {seconds:.1f} s:\n\n{reply}",
                       "✅ 教师模型在 {seconds:.1f} 秒内作答：\n\n{reply}"),
    "make.recipe": ("### The recipe", "### 配方"),
    "make.upload": ("Upload an input file…", "上传输入文件……"),
    "make.more": ("More settings: speed, retries, prices, lengths, dedupe", "更多设置：速度、重试、价格、长度、去重"),
    "make.preview": ("Preview 5 rows", "预览 5 行"),
    "make.start": ("Make the data", "开始制作"),
    "make.stop": ("Stop", "停止"),
    "make.resume": ("Resume", "继续"),
    "make.preview_table": ("Preview (nothing is written)", "预览（不写入任何内容）"),
    "make.preview_empty": (
        "No row came out of the preview: the reasons are below. Try another setting of the recipe or another "
        "teacher.",
        "预览没有得到任何行：原因见下方。请换一个配方设置或换一个教师模型再试。"),
    "make.previewed": ("{rows} preview rows below; nothing was written. Happy with them? Make the data.",
                       "下面是 {rows} 行预览，没有写入任何内容。满意的话就开始制作。"),
    "make.busy": ("A batch is already running: stop it first, or wait until it ends.",
                  "已有一批任务在运行：请先停止，或等它结束。"),
    "make.started": ("⏳ Started: rows are added to `{output}` as they come.",
                     "⏳ 已开始：生成的行会陆续追加到 `{output}`。"),
    "make.stopping": ("Stopping after the requests under way…", "正在停止，等待进行中的请求结束……"),
    "make.waiting": ("⏳ Waiting for the first answers…", "⏳ 正在等待第一批回答……"),
    "make.done": ("✅ Done.", "✅ 完成。"),
    "make.stopped": (
        "⏹ Stopped. The rows made so far are kept; Resume asks only for the rest.",
        "⏹ 已停止。已生成的行都保留着；点“继续”只会请求剩下的部分。"),
    "make.progress": ("Requests done **{done}** of {total} · rows kept **{kept}** (wanted {wanted})",
                      "已完成请求 **{done}** / {total} · 保留 **{kept}** 行（目标 {wanted} 行）"),
    "make.dropped": ("Dropped: {reasons}", "丢弃：{reasons}"),
    "make.dropped_reason": ("{reason}: {count}", "{reason}：{count}"),
    "make.tokens": ("Tokens: {tokens_in} in, {tokens_out} out", "词元：输入 {tokens_in}，输出 {tokens_out}"),
    "make.time_left": ("Time left: about {left}", "剩余时间：约 {left}"),
    "make.cost": ("Estimated cost: {cost:.4f}", "预计费用：{cost:.4f}"),
    "make.review": ("Review the rows", "审阅生成的行"),
    "make.reload": ("Show the file's rows", "显示文件中的行"),
    "make.use": ("Use as training data →", "用作训练数据 →"),
    "make.row": ("Row to read or edit (click one in the table)", "要阅读或编辑的行（可在表格中点击）"),
    "make.row_number": ("#", "#"),
    "make.save_row": ("Save this row", "保存此行"),
    "make.drop_row": ("Drop this row", "删除此行"),
    "make.no_rows": ("No rows in `{path}` yet.", "`{path}` 中还没有行。"),
    "make.rows_in": ("**{rows}** rows in `{path}`. Click a row to read it whole, edit it or drop it.",
                     "`{path}` 中共 **{rows}** 行。点击某一行可查看全文、编辑或删除。"),
    "make.review_busy": ("The batch is still writing to the file: stop it or wait before editing rows.",
                         "这批任务仍在写入该文件：请先停止或等待结束，再编辑行。"),
    "make.no_such_row": ("There is no row {row}: the file has {rows}.", "没有第 {row} 行：文件共有 {rows} 行。"),
    "make.saved": ("Row {row} saved ({rows} rows).", "第 {row} 行已保存（共 {rows} 行）。"),
    "make.dropped_row": ("Row {row} dropped ({rows} rows left).", "第 {row} 行已删除（剩余 {rows} 行）。"),
    # ---- options: the teacher ------------------------------------------------------------------------------------
    "making.teacher.base_url.label": ("Teacher endpoint", "教师模型地址"),
    "making.teacher.base_url.help": (
        "An OpenAI-compatible address ending in /v1: a cloud model, a local Ollama, vLLM or LM Studio server "
        "(http://127.0.0.1:11434/v1), or this studio's own demo. Leave empty to load a model here instead.",
        "兼容 OpenAI 的地址，以 /v1 结尾：云端模型、本机的 Ollama、vLLM 或 LM Studio 服务"
        "（http://127.0.0.1:11434/v1），或本工作室自己的演示服务。留空则改为在本机加载模型。"),
    "making.teacher.model.label": ("Teacher model name", "教师模型名称"),
    "making.teacher.model.help": (
        "The model's name as the endpoint knows it (its /v1/models list), e.g. gpt-4o-mini or qwen2.5:7b.",
        "端点所认识的模型名称（见其 /v1/models 列表），例如 gpt-4o-mini 或 qwen2.5:7b。"),
    "making.teacher.api_key_env.label": ("API key variable", "API 密钥环境变量"),
    "making.teacher.api_key_env.help": (
        "The name of the environment variable holding the key (e.g. OPENAI_API_KEY), never the key itself: the key "
        "is not written to any config, log or dataset. Local servers usually need none.",
        "保存密钥的环境变量名（例如 OPENAI_API_KEY），而不是密钥本身：密钥不会写入任何配置、日志或数据集。"
        "本机服务通常不需要密钥。"),
    "making.teacher.model_source.label": ("Or a model loaded here", "或在本机加载的模型"),
    "making.teacher.model_source.help": (
        "Instead of an endpoint: a local model folder, a built-in model ('default'), or a finished run as run:NAME. "
        "It answers one request at a time.",
        "代替端点：本地模型文件夹、内置模型（'default'），或以 run:名称 指定的已完成训练。它一次只回答一个请求。"),
    "making.teacher.concurrency.label": ("Requests at once", "同时请求数"),
    "making.teacher.concurrency.help": (
        "How many requests run in parallel. Cloud endpoints allow more; a local server on one GPU, 1 to 4.",
        "并行发送的请求数。云端服务可以多一些；单 GPU 的本机服务建议 1 到 4。"),
    "making.teacher.timeout_s.label": ("Timeout per request (s)", "单个请求超时（秒）"),
    "making.teacher.timeout_s.help": (
        "A request with no answer after this many seconds is given up and retried.",
        "超过这么多秒仍无回答的请求会被放弃并重试。"),
    "making.teacher.retries.label": ("Retries", "重试次数"),
    "making.teacher.retries.help": (
        "How often a request is tried again after a rate limit (429), a server error (5xx), a timeout or a dropped "
        "connection, waiting longer each time.",
        "遇到限流（429）、服务器错误（5xx）、超时或连接中断后再试的次数，每次等待更久。"),
    "making.teacher.max_tokens.label": ("Longest answer (tokens)", "最长回答（词元）"),
    "making.teacher.max_tokens.help": (
        "The most tokens the teacher may write per request. When the endpoint says the request is too long, it is "
        "retried with half as many.",
        "每个请求教师最多可写的词元数。若端点说请求过长，会以一半的数量重试。"),
    "making.teacher.temperature.label": ("Temperature", "温度"),
    "making.teacher.temperature.help": (
        "Higher is more varied (good for new tasks), lower is steadier (good for answers).",
        "越高越多样（适合生成新任务），越低越稳定（适合回答问题）。"),
    "making.teacher.price_in.label": ("Price per million input tokens", "每百万输入词元价格"),
    "making.teacher.price_in.help": (
        "From the provider's price list, to show an estimated cost; 0 shows none.",
        "取自服务商的价目表，用于估算费用；为 0 时不显示。"),
    "making.teacher.price_out.label": ("Price per million output tokens", "每百万输出词元价格"),
    "making.teacher.price_out.help": (
        "From the provider's price list, to show an estimated cost; 0 shows none.",
        "取自服务商的价目表，用于估算费用；为 0 时不显示。"),
    # ---- options: the recipe -------------------------------------------------------------------------------------
    "making.recipe.kind.label": ("Recipe", "配方"),
    "making.recipe.kind.help": (
        "answer: the teacher answers your questions; explain: it explains how to reach each known answer; "
        "self_instruct: new tasks like your seed examples; documents: questions and answers from your documents.",
        "answer：教师回答你的问题；explain：教师解释如何得出每个已知答案；self_instruct：仿照种子示例生成新任务；"
        "documents：根据你的文档生成问答。"),
    "making.recipe.input.label": ("Input file", "输入文件"),
    "making.recipe.input.help": (
        "answer / explain: questions (.txt one per line, or .jsonl/.json/.csv with a question column and optionally "
        "an answer); self_instruct: seed examples (.jsonl with instruction, input, output); documents: a .txt/.md "
        "file or a folder of them.",
        "answer / explain：问题（.txt 每行一个，或含 question 列、可选 answer 列的 .jsonl/.json/.csv）；"
        "self_instruct：种子示例（含 instruction、input、output 的 .jsonl）；"
        "documents：一个 .txt/.md 文件或其文件夹。"),
    "making.recipe.seeds.label": ("Seed tasks typed in", "手动输入的种子任务"),
    "making.recipe.seeds.help": (
        "For self_instruct without a file: one example instruction per line.",
        "没有文件时用于 self_instruct：每行一条示例指令。"),
    "making.recipe.count.label": ("Rows wanted", "目标行数"),
    "making.recipe.count.help": (
        "self_instruct and documents stop once this many rows are kept; answer and explain ask at most this many "
        "questions.",
        "self_instruct 和 documents 在保留这么多行后停止；answer 和 explain 最多提问这么多个问题。"),
    "making.recipe.reasoning.label": ("Step-by-step reasoning", "逐步推理"),
    "making.recipe.reasoning.help": (
        "Ask the teacher to reason step by step and end with 'The answer is: ...'.",
        "要求教师逐步推理，并以“答案是：……”结尾。"),
    "making.recipe.answer_pattern.label": ("Answer pattern", "答案提取规则"),
    "making.recipe.answer_pattern.help": (
        "Where a question has a known answer, the row is kept only when the teacher's final answer, found by this "
        "regular expression (as in the Evaluate tab), agrees with it.",
        "问题带有已知答案时，只有当用此正则表达式（与评估页相同）提取的教师最终答案与之一致时才保留该行。"),
    "making.recipe.rouge_threshold.label": ("Near-duplicate threshold (ROUGE-L)", "近似重复阈值（ROUGE-L）"),
    "making.recipe.rouge_threshold.help": (
        "A new row whose instruction overlaps an earlier row or a seed by more than this ROUGE-L score is dropped "
        "(Chinese is compared character by character). 1 keeps all but exact copies.",
        "新行的指令与之前的行或种子的 ROUGE-L 重合度高于此值时被丢弃（中文按字比较）。设为 1 则只去除完全相同的。"),
    "making.recipe.min_chars.label": ("Shortest answer (characters)", "最短回答（字符）"),
    "making.recipe.min_chars.help": ("Rows with a shorter output are dropped.", "输出短于此值的行会被丢弃。"),
    "making.recipe.max_chars.label": ("Longest answer (characters)", "最长回答（字符）"),
    "making.recipe.max_chars.help": ("Rows with a longer output are dropped.", "输出长于此值的行会被丢弃。"),
    "making.recipe.seeds_per_request.label": ("Seeds shown per request", "每个请求展示的种子数"),
    "making.recipe.seeds_per_request.help": (
        "How many seed examples the teacher sees in each request for new tasks.",
        "每个生成新任务的请求中给教师看的种子示例数。"),
    "making.recipe.tasks_per_request.label": ("New tasks per request", "每个请求的新任务数"),
    "making.recipe.tasks_per_request.help": (
        "How many new tasks each request asks for.", "每个请求要求生成的新任务数。"),
    "making.recipe.passage_chars.label": ("Passage length (characters)", "段落长度（字符）"),
    "making.recipe.passage_chars.help": (
        "Documents are cut into passages of about this many characters, at paragraph ends where possible.",
        "文档被切成大约这么多字符的段落，尽量在段落结尾处切分。"),
    "making.recipe.questions_per_passage.label": ("Questions per passage", "每段问题数"),
    "making.recipe.questions_per_passage.help": (
        "How many question and answer pairs the teacher writes for each passage.",
        "教师为每个段落编写的问答对数量。"),
    "making.recipe.seed.label": ("Random seed", "随机种子"),
    "making.recipe.seed.help": (
        "Which seed examples are shown together; the same seed picks the same ones again.",
        "决定哪些种子示例一起展示；相同的随机种子会再次选出相同的示例。"),
    "making.output.label": ("Output file", "输出文件"),
    "making.output.help": (
        "The JSONL the rows are appended to as they come; running again resumes it, skipping what is done.",
        "生成的行随到随写入的 JSONL 文件；再次运行会续做，跳过已完成的部分。"),
    # ---- core/making/config.py: values fine alone but not together ------------------------------------------
    "making.config.one_teacher": (
        "{where}give one teacher: teacher.base_url (an OpenAI-compatible /v1 address) or teacher.model_source (a "
        "model folder, a built-in model or run:NAME), not both and not neither.",
        "{where}请指定一个教师模型：teacher.base_url（兼容 OpenAI 的 /v1 地址）或 teacher.model_source"
        "（模型文件夹、内置模型或 run:名称），二者只能选其一且不能都不填。"),
    "making.config.no_model": (
        "{where}teacher.model is empty: give the model's name as the endpoint knows it (its /v1/models list).",
        "{where}teacher.model 为空：请填写端点所认识的模型名称（见其 /v1/models 列表）。"),
    "making.config.no_output": ("{where}output is empty: name the JSONL file the rows go to.",
                                "{where}output 为空：请指定保存生成行的 JSONL 文件。"),
    "making.config.lengths": (
        "{where}recipe.min_chars ({low}) is above recipe.max_chars ({high}): every row would be dropped.",
        "{where}recipe.min_chars（{low}）大于 recipe.max_chars（{high}）：所有行都会被丢弃。"),
    # ---- core/making/teacher.py -----------------------------------------------------------------------------------
    "making.teacher.none": ("No teacher: give teacher.base_url or teacher.model_source.",
                            "没有教师模型：请填写 teacher.base_url 或 teacher.model_source。"),
    "making.teacher.wrong_key": (
        "{url} refused the API key (401). Check the key typed in the studio, or the environment variable "
        "{variable}.",
        "{url} 拒绝了 API 密钥（401）。请检查在工作室中输入的密钥，或环境变量 {variable}。"),
    "making.teacher.unknown_model": (
        "{url} has no model named {model} (or the address is wrong: it should end in /v1). Its models: {known}",
        "{url} 没有名为 {model} 的模型（或地址有误：应以 /v1 结尾）。它提供的模型：{known}"),
    "making.teacher.unreachable": (
        "Cannot reach the teacher at {url} ({tries} tries): is the server running, and is the address right? "
        "({error})",
        "无法连接到位于 {url} 的教师模型（已尝试 {tries} 次）：服务是否在运行，地址是否正确？（{error}）"),
    "making.teacher.refused": ("The teacher refused the request: {error}", "教师模型拒绝了该请求：{error}"),
    "making.teacher.malformed": ("The teacher's answer was not a chat completion: {error}",
                                 "教师模型的回答不是有效的对话补全：{error}"),
    "making.teacher.timed_out": ("No answer within {seconds} s, {tries} tries: the request was given up.",
                                 "{seconds} 秒内没有回答，已尝试 {tries} 次：放弃该请求。"),
    "making.teacher.gave_up": ("The teacher failed {tries} times: {error}", "教师模型失败了 {tries} 次：{error}"),
    "making.teacher.no_run": ("No run named {name} in {folder}.", "{folder} 中没有名为 {name} 的训练。"),
    # ---- core/making/recipes.py -----------------------------------------------------------------------------------
    "making.recipes.missing": ("No input file at {path}.", "{path} 处没有输入文件。"),
    "making.recipes.unreadable": ("{path} cannot be read: {why}", "无法读取 {path}：{why}"),
    "making.recipes.no_questions": (
        "{path} holds no questions: give a .txt file with one question a line, or rows with a column named one "
        "of {keys}.",
        "{path} 中没有问题：请提供每行一个问题的 .txt 文件，或含有 {keys} 之一列名的数据行。"),
    "making.recipes.explain_needs_answers": (
        "The explain recipe needs a known answer for every question; {missing} rows of {path} have none (a column "
        "named one of {keys}).",
        "explain 配方要求每个问题都有已知答案；{path} 中有 {missing} 行没有（列名应为 {keys} 之一）。"),
    "making.recipes.no_seeds": (
        "No seed examples: {path} holds none, and none are typed in. Give a few example tasks (3 or more).",
        "没有种子示例：{path} 中没有，也没有手动输入。请提供几个示例任务（3 个或更多）。"),
    "making.recipes.no_documents": ("No text in {path}: give a {extensions} file, or a folder of them.",
                                    "{path} 中没有文本：请提供 {extensions} 文件或包含它们的文件夹。"),
    "making.recipes.pdf_no_text": (
        "{path} has no text layer (a scanned PDF?): run OCR on it first (e.g. ocrmypdf), or give its text as a .txt "
        "file.",
        "{path} 没有文本层（扫描的 PDF？）：请先对其做 OCR 文字识别（例如 ocrmypdf），或以 .txt 文件提供其文本。"),
    "making.recipes.pdf_encrypted": (
        "{path} is encrypted: save a copy without a password (or print it to a new PDF) and give that one.",
        "{path} 已加密：请另存一份不带密码的副本（或打印为新的 PDF）后再提供。"),
    "making.recipes.pdf_damaged": (
        "{path} is not a readable PDF ({why}): open it in a PDF viewer and save it again, or give its text as a .txt "
        "file.",
        "{path} 不是可读取的 PDF（{why}）：请用 PDF 阅读器打开并重新保存，或以 .txt 文件提供其文本。"),
    # ---- core/making/batch.py -------------------------------------------------------------------------------------
    "making.batch.progress": (
        "{done}/{total} requests, {kept} rows kept, {dropped} dropped, tokens {tokens_in} in / {tokens_out} out, "
        "{left} s left, cost {cost}",
        "{done}/{total} 个请求，保留 {kept} 行，丢弃 {dropped} 行，词元 输入 {tokens_in} / 输出 {tokens_out}，"
        "剩余 {left} 秒，费用 {cost}"),
    "making.batch.summary": ("kept {kept} rows, dropped {dropped} ({reasons})",
                             "保留 {kept} 行，丢弃 {dropped} 行（{reasons}）"),
    "making.batch.reason_count": ("{reason}: {count}", "{reason}：{count}"),
    "making.reason.malformed": ("malformed answer", "回答格式错误"),
    "making.reason.disagrees": ("disagrees with the known answer", "与已知答案不符"),
    "making.reason.cut_off": ("cut off at max tokens", "因达到最大词元数被截断"),
    "making.reason.too_short": ("too short", "过短"),
    "making.reason.too_long": ("too long", "过长"),
    "making.reason.duplicate": ("near-duplicate", "近似重复"),
    "making.reason.refused": ("refused by the teacher", "被教师模型拒绝"),
    "making.reason.failed": ("request failed", "请求失败"),
    # ---- launch.py make-data (core/cli/sources.py) ------------------------------------------------------------
    "making.cli.start": ("Making data: recipe {kind}, teacher {teacher}, rows to {output}",
                         "制作数据：配方 {kind}，教师模型 {teacher}，输出到 {output}"),
    "making.cli.resuming": ("Resuming: {done} requests already done, {kept} rows kept.",
                            "继续：已完成 {done} 个请求，已保留 {kept} 行。"),
    "making.cli.stopping": ("Stopping: the requests under way finish and are written.",
                            "正在停止：进行中的请求完成后会被写入。"),
    "making.cli.failed": ("Stopped: {error}", "已停止：{error}"),
}
